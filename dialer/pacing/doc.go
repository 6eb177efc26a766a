// Package pacing decides how many new dials an outbound campaign starts
// now. It is workflow code: pure and deterministic (no clock, no
// randomness, no goroutines, no maps), and a Controller is plain data
// (JSON) that the campaign workflow carries across continue-as-new. On
// every tick and every event the workflow builds a Snapshot, calls
// Decide, and starts Decision.Dial dials; it calls Observe when a dial
// leaves the lines (its outcome known) and when an agent ends the wrap-up
// of a connected call (Outcome OutcomeHandled).
//
// Preview dials nothing (agents dial from their desk). Progressive keeps
// one line per available agent (Dial = available - lines), so a live
// answer always finds its agent. Agentless keeps Concurrency lines. Every
// mode honours RatePerMinute and Pending, and an agent mode with no agent
// signed in dials nobody, whatever its lines.
//
// Predictive. The model: a new dial turns into a live answer with
// probability p, a line in progress with probability q, the live share of
// line time (live answers ring shorter than a no-answer's 25 s, so q < p);
// both are moving averages over the last ~200 dials. The horizon T is the
// measured mean from dial to a live answer's connect. The agents for the
// live answers within T are the available ones plus the busy ones that
// free within T: a wrapping agent with chance 1 - e^(-T/W), a talking one
// when the rest of the talk and the wrap-up end within T (talk and
// wrap-up taken as exponential, means measured). With X ~ Binomial(lines,
// live share) and Y = available + Binomial(talking) + Binomial(wrapping),
// the expected overflow E[(X - Y)+] / E[X] is the share of live answers
// expected to find no agent; Decide dials the most new lines that keep it
// at most the allowed share, and at most MaxRatio lines per agent
// expected. The controller: the allowed share is aim * e^I, where the aim
// is the Target (default 2/3 of the cap, at most 80% of it) lowered by the
// 30-day rate's excess over it, and I is an integral term moved by
// ki(aim - 1) on each abandoned live answer and ki*aim on each connected
// one, so that abandons settle at the aim whatever the model's bias (it
// is optimistic: it lets an agent freeing late in the horizon serve an
// early answer). Until 30 dials, two handled calls per agent (at least
// 20) and 100 live answers in the 30-day window are seen, the campaign
// paces progressively and the Reason says so. The fallback: when the 30-day rate reaches 90%
// of the cap, or the recent rate (over ~500 live answers) reaches the
// cap, the campaign paces progressively, which abandons nobody (Pacing
// progressive, Reason "near the abandon cap: ..."), and I backs off; it
// paces predictively again once the 30-day rate is at most 75% of the cap
// and the recent rate at most 2/3 of it.
//
// Floating point: math.Exp has assembly versions on amd64 and arm64, and
// arm64 may fuse multiply-adds, so a history replayed on another
// architecture could in rare cases round a decision otherwise; run a
// campaign's workers on one architecture.
package pacing
