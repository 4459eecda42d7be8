// Package account is NATS's unit of isolation: each account has its own subscription
// index, and nothing crosses from one account to another except through an import of
// something the other exports. A Set is built from configuration, checked as a whole
// (unknown accounts, imports nobody exports to the importer, service import cycles), and
// wires each account's routes: the stream exports other accounts import from it, and the
// service imports it makes, with the reply subjects those services may answer on.
//
// The engine (package core) asks an account where a published message goes besides its
// own subscribers (Routes); the account does no delivery itself.
package account
