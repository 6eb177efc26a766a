// Package nlu is voxflow's offline language understanding: the intent
// matcher an intent node uses when no model endpoint is configured, the
// slot parsers (also used to normalise a model's slot values), a lexicon
// sentiment scorer and a post-call summariser that needs no model.
//
// The matcher reads an utterance as content words (stop words, numbers,
// dates, times and amounts removed; light stems, so pay, paying and
// payment meet; a few phrases such as "customer service" joined). Each
// word matches the intents' words exactly, through built-in
// contact-centre synonym groups, or, when it is unknown, by a near
// spelling or sound (speech recognition slips: "biling", "out edge"). An
// intent scores by the best of its examples (weighted overlap in both
// directions, any word order) and by how much of the utterance its
// examples, description and name cover (words weighted by how few intents
// use them, as IDF does), scaled by how much evidence there is; a near tie
// with the runner-up lowers the confidence. testdata holds the labelled
// sets its accuracy is measured on (accuracy_test.go).
//
// Everything here is pure and deterministic: the same input gives the
// same output on every run and every machine, so results can be recorded
// as activity results and compared in tests.
package nlu

import "errors"

// Errors of Classify. The flow validator rejects these earlier; the
// activity reports them instead of crashing.
var (
	// ErrNoIntents: the input declares no intents to choose from.
	ErrNoIntents = errors.New("no intents declared")
	// ErrUnknownSlotType: a slot's type is not one of activities.SlotTypes.
	ErrUnknownSlotType = errors.New("unknown slot type")
	// ErrUnknownIntent: a follow-up turn names an intent the input does
	// not declare.
	ErrUnknownIntent = errors.New("unknown intent")
)
