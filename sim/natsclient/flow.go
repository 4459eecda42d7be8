package natsclient

// PauseReads stops reading from the server until ResumeReads: a slow reader, whose server
// then holds its messages (and may slow their publishers).
func (c *Client) PauseReads() { c.conn.PauseReads() }

// ResumeReads reads again.
func (c *Client) ResumeReads() {
	if !c.closed {
		c.conn.ResumeReads()
	}
}

// WhenDrained runs fn on the client's executor once at most below bytes are unsent (or the
// connection ended): a publisher that writes as fast as the network takes its bytes.
func (c *Client) WhenDrained(below int, fn func()) { c.conn.NotifyDrained(below, c.ex, fn) }
