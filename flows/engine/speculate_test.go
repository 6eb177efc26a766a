package engine_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/stretchr/testify/mock"

	"github.com/voxflow/voxflow/activities"
)

const speculateFlow = `
name: spec-test
entry: greet
variables:
  visits: 0
nodes:
  greet:
    type: play
    say: "Welcome"
    next: main
  main:
    type: menu
    prompt: "Press 1 to count, 2 to leave, 3 for the desk"
    options:
      "1": count
      "2": leave
      "3": desk
    on_failure: leave
  count:
    type: set
    assign:
      visits: vars.visits + 1
    next: check
  check:
    type: branch
    when:
      - if: vars.visits >= 2
        next: again
    default: main
  again:
    type: play
    say: "Visit {{ vars.visits }} and key {{ input }}"
    next: main
  leave:
    type: hangup
    say: "Bye after {{ vars.visits }} visits"
  desk:
    type: http
    url: "http://crm.test/desk"
    next: main
`

// The prompts a menu hands its collect for each key are exactly the
// prompts of the media activity the workflow runs after that key: the
// speculation and the real run agree, through set, branch and play nodes,
// variables changed on the way and the input itself. A key whose path
// needs I/O (an http node) gets none.
func TestThenPromptsMatchTheNextActivity(t *testing.T) {
	h := newHarness(t)
	keys := []string{"1", "1", "1", "2"}
	var collects []activities.CollectInput
	h.env.OnActivity(activities.ActCollect, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, in activities.CollectInput) (activities.CollectResult, error) {
			collects = append(collects, in)
			return activities.CollectResult{Kind: activities.InputDTMF, Digits: keys[len(collects)-1]}, nil
		})
	var hangup activities.HangupInput
	h.env.OnActivity(activities.ActHangup, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, in activities.HangupInput) error {
			hangup = in
			return nil
		})
	h.run(speculateFlow)
	if len(collects) != 4 {
		t.Fatalf("%d collects, want 4", len(collects))
	}
	for i, in := range collects {
		if _, ok := in.Then["3"]; ok {
			t.Errorf("collect %d speculated past an http node: %+v", i, in.Then["3"])
		}
		want := hangup.Prompts
		if i+1 < len(collects) {
			want = collects[i+1].Prompts
		}
		if got := in.Then[keys[i]]; !reflect.DeepEqual(got, want) {
			t.Errorf("collect %d, key %s: then %+v, the next activity said %+v", i, keys[i], got, want)
		}
	}
	if len(hangup.Prompts) != 1 || hangup.Prompts[0].Text != "Bye after 3 visits" {
		t.Errorf("hangup prompts %+v", hangup.Prompts)
	}
	if p := collects[2].Prompts; len(p) != 2 || p[0].Text != "Visit 2 and key 1" {
		t.Errorf("third collect prompts %+v, want the play before the menu", p)
	}
}
