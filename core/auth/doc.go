// Package auth decides who a connecting client is and what it may do.
//
// An Authenticator holds the configured users (name and password, plain or bcrypt; or an
// nkey), an optional token, and the no-auth user. Check takes the credentials of a CONNECT
// and the nonce the server sent in INFO, and returns the matching User or ErrAuthorization.
// Nkey users prove themselves by signing the nonce with their private key (ed25519); the
// signature arrives base64 (raw URL or standard).
//
// Permissions are compiled once per user into subject matchers: a publish or subscribe is
// allowed when an allow pattern covers it (or there is no allow list) and no deny pattern
// does. allow_responses lets a client publish to reply subjects it was sent, a bounded number
// of times within a bounded time.
package auth
