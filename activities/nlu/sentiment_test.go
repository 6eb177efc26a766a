package nlu

import "testing"

func TestSentiment(t *testing.T) {
	for _, c := range []struct {
		text     string
		min, max float64
	}{
		// Strongly angry lines reach -0.6 or less.
		{"this is ridiculous, the third time I'm calling and your service is useless", -1, -0.6},
		{"This is absolutely ridiculous", -1, -0.6},
		{"I'm so frustrated, I want to speak to a manager", -1, -0.6},
		{"you people are useless, cancel my account", -1, -0.6},
		{"worst service ever, what a waste of time", -1, -0.6},
		{"I am sick and tired of this", -1, -0.6},
		// Milder unhappiness.
		{"I'm not happy", -0.6, -0.15},
		{"my internet is not working", -0.5, -0.1},
		{"I'm really annoyed", -0.8, -0.4},
		{"I'd like to speak to a manager please", -0.7, -0.3},
		// Neutral requests stay near 0.
		{"I want to pay my bill", -0.1, 0.1},
		{"what are your opening hours", -0.1, 0.1},
		{"my account number is 4471", -0.1, 0.1},
		{"", 0, 0},
		{"please", 0, 0},
		{"good morning, I'd like to check my balance", -0.1, 0.1},
		// Happy callers.
		{"thank you so much, that was great", 0.6, 1},
		{"perfect, thanks", 0.5, 1},
		{"that's not bad", 0.05, 0.5},
		{"no problem", 0.05, 0.5},
		{"great", 0.4, 1},
		// What follows "but" counts more.
		{"the agent was nice but the wait was ridiculous", -1, -0.1},
		// Capitals and exclamation marks are not heard on a call.
		{"THIS IS RIDICULOUS!!!", -0.6, -0.4},
	} {
		got := Sentiment(c.text)
		if got < c.min || got > c.max || got < -1 || got > 1 {
			t.Errorf("Sentiment(%q) = %.3f, want within [%.2f, %.2f]", c.text, got, c.min, c.max)
		}
	}
	if Sentiment("I'm not happy") >= Sentiment("I'm happy") {
		t.Error("negation did not lower the score")
	}
	if Sentiment("really useless") >= Sentiment("useless") {
		t.Error("intensifier did not strengthen the score")
	}
	if Sentiment("THIS IS RIDICULOUS!!!") != Sentiment("this is ridiculous") {
		t.Error("capitals or punctuation changed the score")
	}
}
