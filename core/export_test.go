package core

// redactForTest exposes redactSecrets to the external tests.
var RedactForTest = redactSecrets
