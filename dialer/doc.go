// Package dialer holds the outbound dialer's rules that need no network
// and no clock of their own, so that the campaign workflow can run them:
// phone numbers to E.164 with their country and time zones (a table of
// every ITU country calling code, and of NANP area codes), calling windows
// held in every zone a callee may be in, retry rules by attempt outcome,
// campaign defaults and validation, and the streaming CSV import of
// contact lists. Every function takes the time it needs as a parameter.
// Sub-packages pace the dials (pacing) and simulate campaigns (pacesim).
package dialer
