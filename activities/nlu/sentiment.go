package nlu

import (
	"math"
	"strings"
)

// Sentiment scores how the speaker feels in [-1, 1] (negative: unhappy)
// from a lexicon of words and contact-centre phrases ("third time I'm
// calling", "speak to a manager", "thank you so much"). A negation up to
// three words before a word turns it over and weakens it ("not happy");
// an intensifier just before strengthens it ("really useless"); what
// follows "but" counts more than what precedes it. Capitals and
// exclamation marks are ignored: speech recognition does not hear them.
// The sum is squashed as VADER does, x/sqrt(x²+15), so one strong word
// gives about -0.55 and an angry line -0.8 or less.
func Sentiment(text string) float64 {
	ws := words(tokenize(text))
	var scores []float64
	butAt := -1
	for i := 0; i < len(ws); {
		if ws[i] == "but" && butAt < 0 {
			butAt = len(scores)
		}
		v, n := phraseScore(ws, i)
		if n == 0 {
			v, n = wordScore(ws[i]), 1
		}
		if v != 0 {
			v = modify(ws, i, v)
		}
		scores = append(scores, v)
		i += n
	}
	sum := 0.0
	for k, v := range scores {
		switch {
		case butAt < 0:
		case k < butAt:
			v *= 0.5
		default:
			v *= 1.5
		}
		sum += v
	}
	c := sum / math.Sqrt(sum*sum+15)
	return math.Round(max(-1, min(1, c))*1000) / 1000
}

// wordScore is a word's lexicon score, or its singular's; 0 if none.
// (Stems would confuse "please" with "pleased".)
func wordScore(w string) float64 {
	if v, ok := sentimentWords[w]; ok {
		return v
	}
	if s, ok := strings.CutSuffix(w, "s"); ok {
		return sentimentWords[s]
	}
	return 0
}

// phraseScore matches a phrase at ws[i], longest first.
func phraseScore(ws []string, i int) (float64, int) {
	if v, n := repeatCall(ws, i); n > 0 {
		return v, n
	}
	best, bestN := 0.0, 0
	for _, p := range sentimentPhrases {
		if len(p.words) <= bestN || i+len(p.words) > len(ws) {
			continue
		}
		ok := true
		for k, w := range p.words {
			if ws[i+k] != w {
				ok = false
				break
			}
		}
		if ok {
			best, bestN = p.score, len(p.words)
		}
	}
	return best, bestN
}

// repeatCall matches "third time I am calling", "second time calling".
func repeatCall(ws []string, i int) (float64, int) {
	if d, ok := ordinals[ws[i]]; !ok || d < 2 || d > 20 || i+1 >= len(ws) || ws[i+1] != "time" {
		return 0, 0
	}
	for k := i + 2; k < len(ws) && k <= i+5; k++ {
		if strings.HasPrefix(ws[k], "call") || ws[k] == "phoned" || ws[k] == "phoning" {
			return -2.5, k + 1 - i
		}
	}
	return 0, 0
}

// modify applies the negations and intensifiers before ws[i].
func modify(ws []string, i int, v float64) float64 {
	if i > 0 {
		switch {
		case intensifiers[ws[i-1]]:
			v *= 1.5
		case dampeners[ws[i-1]]:
			v *= 0.6
		}
	}
	for k := i - 1; k >= 0 && k >= i-3; k-- {
		if negations[ws[k]] {
			return v * -0.74
		}
	}
	return v
}

var negations = setOf("not", "no", "never", "nothing", "nobody", "hardly", "without", "neither", "nor", "none")

var intensifiers = setOf("very", "really", "so", "extremely", "absolutely", "totally",
	"completely", "utterly", "incredibly", "super", "truly", "seriously", "such", "most",
	"too", "awfully", "terribly")

var dampeners = setOf("slightly", "somewhat", "bit", "fairly", "quite", "rather", "kinda")
