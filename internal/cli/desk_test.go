package cli

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	designerapi "github.com/voxflow/voxflow/designer-api"
	"github.com/voxflow/voxflow/store"
)

// TestAgentsAddGivesADeskSignIn: `agents add` also makes the agent an API
// user of role agent with the same password (the desk's sign-in), leaves
// an existing user alone, and `agents remove` takes only an agent-role
// user away.
func TestAgentsAddGivesADeskSignIn(t *testing.T) {
	dsn := "sqlite://" + filepath.Join(t.TempDir(), "voxflow.db")
	ctx := context.Background()
	out, errs, code := runCLI(t, "agents", "add", "carol", "--store", dsn, "--password", "carol-pw-12345")
	if code != 0 || !strings.Contains(out, "/agent") {
		t.Fatalf("add: %d\n%s%s", code, out, errs)
	}
	s, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	auth, err := designerapi.NewAuth(s, designerapi.AuthOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := auth.Login(ctx, "carol", "carol-pw-12345"); err != nil {
		t.Fatalf("carol cannot sign in on the desk: %v", err)
	}
	if u, err := auth.User(ctx, "carol"); err != nil || u.Role != designerapi.RoleAgent {
		t.Fatalf("carol's user %+v %v, want role agent", u, err)
	}
	// An admin named like an agent keeps its role and password.
	if _, err := auth.CreateUser(ctx, "dave", "dave-admin-pw-1", designerapi.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	if out, errs, code := runCLI(t, "agents", "add", "dave", "--store", dsn); code != 0 || !strings.Contains(out, "already exists") {
		t.Fatalf("add dave: %d\n%s%s", code, out, errs)
	}
	if _, _, code := runCLI(t, "agents", "remove", "dave", "--store", dsn); code != 0 {
		t.Fatal("remove dave")
	}
	if u, err := auth.User(ctx, "dave"); err != nil || u.Role != designerapi.RoleAdmin {
		t.Fatalf("removing agent dave touched the admin: %+v %v", u, err)
	}
	if out, _, code := runCLI(t, "agents", "remove", "carol", "--store", dsn); code != 0 || !strings.Contains(out, "desk sign-in carol removed") {
		t.Fatalf("remove carol: %d %s", code, out)
	}
	if _, err := auth.User(ctx, "carol"); err == nil {
		t.Fatal("carol's desk user is still there")
	}
}
