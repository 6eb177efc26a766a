package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	designerapi "github.com/voxflow/voxflow/designer-api"
	"github.com/voxflow/voxflow/flows"
	"github.com/voxflow/voxflow/platform/config"
)

// apiFlags are shared by the commands that talk to the designer API.
type apiFlags struct {
	base string
	key  string
}

func (f *apiFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.base, "api", "http://127.0.0.1"+config.DefaultHTTPAddr, "designer API base URL (voxflow dev serves one)")
	cmd.Flags().StringVar(&f.key, "key", "", "API key (vfk_...); default $VOXFLOW_API_KEY")
}

// apiClient is a small client of the designer API for flows-as-code.
type apiClient struct {
	base string
	key  string
	http *http.Client
}

func (f *apiFlags) client() (*apiClient, error) {
	key := f.key
	if key == "" {
		key = os.Getenv("VOXFLOW_API_KEY")
	}
	if key == "" {
		return nil, errors.New("no API key: pass --key or set VOXFLOW_API_KEY (an admin creates one with POST /api/v1/keys)")
	}
	return &apiClient{base: strings.TrimRight(f.base, "/"), key: key, http: &http.Client{Timeout: 60 * time.Second}}, nil
}

// apiError is a problem-details answer.
type apiError struct {
	Status int
	Title  string `json:"title"`
	Detail string `json:"detail"`
	Errors []struct {
		Message  string `json:"message"`
		Location string `json:"location"`
		Field    string `json:"field"`
		Line     int    `json:"line"`
		Column   int    `json:"column"`
	} `json:"errors"`
}

func (e *apiError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s", e.Status, e.Title)
	if e.Detail != "" {
		b.WriteString(": " + e.Detail)
	}
	for _, d := range e.Errors {
		switch {
		case d.Line > 0:
			fmt.Fprintf(&b, "\n  line %d, column %d: %s", d.Line, d.Column, d.Message)
		case d.Location != "":
			fmt.Fprintf(&b, "\n  %s: %s", d.Location, d.Message)
		default:
			fmt.Fprintf(&b, "\n  %s", d.Message)
		}
	}
	return b.String()
}

// do sends a JSON request; out (if not nil) receives a 2xx JSON answer.
// It returns the response headers.
func (c *apiClient) do(ctx context.Context, method, path string, headers map[string]string, in, out any) (http.Header, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+designerapi.Prefix+path, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w (is the API running? set --api)", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		e := &apiError{Status: resp.StatusCode, Title: http.StatusText(resp.StatusCode)}
		_ = json.Unmarshal(raw, e)
		return resp.Header, e
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return nil, fmt.Errorf("%s %s: decode answer: %w", method, path, err)
		}
	}
	return resp.Header, nil
}

func isStatus(err error, status int) bool {
	var e *apiError
	return errors.As(err, &e) && e.Status == status
}

func (c *apiClient) flow(ctx context.Context, name string) (*designerapi.FlowDetail, error) {
	var d designerapi.FlowDetail
	if _, err := c.do(ctx, http.MethodGet, "/flows/"+url.PathEscape(name), nil, nil, &d); err != nil {
		if isStatus(err, http.StatusNotFound) {
			return nil, nil
		}
		return nil, fmt.Errorf("get flow %s: %w", name, err)
	}
	return &d, nil
}

// flowFile is one flow file of a directory.
type flowFile struct {
	path   string
	name   string
	source string
}

// readFlowDir reads DIR/*.yaml and *.yml and validates each; any invalid
// file stops the push before anything is sent.
func readFlowDir(dir string, stderr io.Writer) ([]flowFile, error) {
	var paths []string
	for _, pat := range []string{"*.yaml", "*.yml"} {
		m, err := filepath.Glob(filepath.Join(dir, pat))
		if err != nil {
			return nil, err
		}
		paths = append(paths, m...)
	}
	sort.Strings(paths)
	if len(paths) == 0 {
		return nil, fmt.Errorf("no *.yaml or *.yml flow files in %s", dir)
	}
	var (
		out    []flowFile
		failed int
		names  = map[string]string{}
	)
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		f, diags := flows.Parse(p, src)
		for _, d := range diags {
			fmt.Fprintln(stderr, d.String())
		}
		if diags.HasErrors() || f == nil {
			failed++
			continue
		}
		if other, dup := names[f.Name]; dup {
			return nil, fmt.Errorf("%s and %s both define flow %q", other, p, f.Name)
		}
		names[f.Name] = p
		out = append(out, flowFile{path: p, name: f.Name, source: string(src)})
	}
	if failed > 0 {
		return nil, fmt.Errorf("%d invalid flow file(s): nothing pushed", failed)
	}
	return out, nil
}

func newPushCmd() *cobra.Command {
	var (
		af      apiFlags
		publish bool
		note    string
	)
	cmd := &cobra.Command{
		Use:   "push DIR",
		Short: "Push the flow files of DIR to the designer API as drafts (and publish them with --publish)",
		Long: `push validates every *.yaml/*.yml file in DIR, then makes each one the draft of
the flow it names (creating the flow if needed). A file equal to the latest
published version (and no draft) is left alone. An existing draft is replaced
only if it did not change while push ran (If-Match); otherwise push reports a
conflict. With --publish each pushed draft is published (the server validates
it again). Exit status 1 if any flow failed.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := af.client()
			if err != nil {
				return err
			}
			files, err := readFlowDir(args[0], cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			failed := 0
			for _, f := range files {
				msg, err := c.push(cmd.Context(), f, publish, note)
				if err != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "%s: %s: %v\n", f.path, f.name, err)
					failed++
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: %s\n", f.name, msg)
			}
			if failed > 0 {
				return ExitError{Code: 1}
			}
			return nil
		},
	}
	af.register(cmd)
	cmd.Flags().BoolVar(&publish, "publish", false, "publish each pushed flow")
	cmd.Flags().StringVar(&note, "note", "voxflow flows push", "note on published versions")
	return cmd
}

// push syncs one file and returns what happened.
func (c *apiClient) push(ctx context.Context, f flowFile, publish bool, note string) (string, error) {
	cur, err := c.flow(ctx, f.name)
	if err != nil {
		return "", err
	}
	var (
		etag string
		msg  string
	)
	draftPath := "/flows/" + url.PathEscape(f.name) + "/draft"
	switch {
	case cur == nil:
		var d designerapi.DraftInfo
		if _, err := c.do(ctx, http.MethodPost, "/flows", nil, map[string]string{"name": f.name, "source": f.source}, &d); err != nil {
			return "", fmt.Errorf("create: %w", err)
		}
		etag, msg = d.ETag, "created draft"
	case cur.Draft != nil && cur.Draft.Source == f.source:
		etag, msg = cur.Draft.ETag, "draft up to date"
	case cur.Draft != nil:
		var d designerapi.DraftInfo
		if _, err := c.do(ctx, http.MethodPut, draftPath, map[string]string{"If-Match": `"` + cur.Draft.ETag + `"`},
			map[string]string{"source": f.source}, &d); err != nil {
			if isStatus(err, http.StatusPreconditionFailed) {
				return "", fmt.Errorf("the draft changed while pushing; run push again: %w", err)
			}
			return "", fmt.Errorf("save draft: %w", err)
		}
		etag, msg = d.ETag, "updated draft"
	case cur.Published != nil && cur.Published.Source == f.source:
		return fmt.Sprintf("unchanged (version %d)", cur.LatestVersion), nil
	default:
		var d designerapi.DraftInfo
		if _, err := c.do(ctx, http.MethodPut, draftPath, nil, map[string]string{"source": f.source}, &d); err != nil {
			return "", fmt.Errorf("save draft: %w", err)
		}
		etag, msg = d.ETag, "saved draft"
	}
	if !publish {
		return msg, nil
	}
	var res designerapi.PublishResult
	if _, err := c.do(ctx, http.MethodPost, "/flows/"+url.PathEscape(f.name)+"/publish",
		map[string]string{"If-Match": `"` + etag + `"`}, map[string]string{"note": note}, &res); err != nil {
		return "", fmt.Errorf("%s, publish failed: %w", msg, err)
	}
	if res.Unchanged {
		return fmt.Sprintf("%s; unchanged (version %d)", msg, res.Version.Version), nil
	}
	return fmt.Sprintf("%s; published version %d", msg, res.Version.Version), nil
}

func newPullCmd() *cobra.Command {
	var (
		af     apiFlags
		drafts bool
	)
	cmd := &cobra.Command{
		Use:   "pull DIR",
		Short: "Write every flow from the designer API into DIR/<name>.yaml, byte for byte",
		Long: `pull writes the latest published version of every flow (with --drafts, the
draft where there is one) into DIR/<name>.yaml exactly as stored, so the same
flow always gives the same bytes and diffs in git stay readable. Files whose
content is already equal are not rewritten.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := af.client()
			if err != nil {
				return err
			}
			dir := args[0]
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			names, err := c.flowNames(cmd.Context())
			if err != nil {
				return err
			}
			for _, name := range names {
				if err := c.pull(cmd.Context(), name, dir, drafts, cmd.OutOrStdout(), cmd.ErrOrStderr()); err != nil {
					return err
				}
			}
			return nil
		},
	}
	af.register(cmd)
	cmd.Flags().BoolVar(&drafts, "drafts", false, "write drafts where a flow has one")
	return cmd
}

// flowNames lists every flow of the API, page by page.
func (c *apiClient) flowNames(ctx context.Context) ([]string, error) {
	var names []string
	for cursor := ""; ; {
		var page struct {
			Flows []struct {
				Name string `json:"name"`
			} `json:"flows"`
			NextCursor string `json:"next_cursor"`
		}
		path := "/flows?limit=1000"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		if _, err := c.do(ctx, http.MethodGet, path, nil, nil, &page); err != nil {
			return nil, fmt.Errorf("list flows: %w", err)
		}
		for _, f := range page.Flows {
			names = append(names, f.Name)
		}
		if cursor = page.NextCursor; cursor == "" {
			return names, nil
		}
	}
}

// pull writes flow name's latest published version (with drafts, its
// draft where there is one) to dir/<name>.yaml, unless the file already
// holds exactly that, and says what it did on stdout.
func (c *apiClient) pull(ctx context.Context, name, dir string, drafts bool, stdout, stderr io.Writer) error {
	d, err := c.flow(ctx, name)
	if err != nil {
		return err
	}
	if d == nil {
		return nil // deleted meanwhile
	}
	var src, what string
	switch {
	case drafts && d.Draft != nil:
		src, what = d.Draft.Source, "draft"
	case d.Published != nil:
		src, what = d.Published.Source, fmt.Sprintf("version %d", d.Published.Version)
	default:
		fmt.Fprintf(stderr, "%s: skipped (draft only; use --drafts)\n", name)
		return nil
	}
	if filepath.Base(name) != name || strings.HasPrefix(name, ".") {
		return fmt.Errorf("flow name %q is not a safe file name", name)
	}
	path := filepath.Join(dir, name+".yaml")
	if old, err := os.ReadFile(path); err == nil && string(old) == src {
		fmt.Fprintf(stdout, "%s: up to date (%s)\n", path, what)
		return nil
	}
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: wrote %s\n", path, what)
	return nil
}
