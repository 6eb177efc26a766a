// Scanners (sipvicious' svmap, svwar, svcrack and their kin) find SIP
// servers, enumerate extensions and guess digest passwords. Bans answers
// the guessing: the registrar reports each digest outcome (AuthResult) and
// a source address that fails BanConfig.AuthFailures times within
// AuthWindow is banned for BanTime; the worker then drops every request
// from it unanswered (Drop), so the scanner sees a dead host and times
// out. Enumeration is answered in media/registrar: unknown and known users
// get the same challenge. See docs/sip-security.md.

package sipguard
