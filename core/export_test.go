package core

import "github.com/petrel-io/petrel/core/env"

// redactForTest exposes redactSecrets to the external tests.
var RedactForTest = redactSecrets

// AcceptForTest hands the server a connection made by the test.
func (s *Server) AcceptForTest(conn env.Conn) { s.accept(conn) }

// ServerIDForTest is the server's id, as its peers know it.
func (s *Server) ServerIDForTest() string { return s.id }
