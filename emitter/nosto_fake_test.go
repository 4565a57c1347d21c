package emitter

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/validator"
)

// fakeNosto is a local HTTP server that behaves like Nosto's documented
// GraphQL API: it checks Basic auth, parses and validates every document
// and its variables against testdata/nosto.graphqls with a real GraphQL
// library, records what it accepted, and can be told to fail.
type fakeNosto struct {
	t      testing.TB
	schema *ast.Schema
	token  string
	srv    *httptest.Server

	mu       sync.Mutex
	accepted []fakeRequest
	headers  []http.Header
	// fail, if set, decides an answer for a request before it is accepted:
	// a status (0: accept) and, for 200, GraphQL errors.
	fail  func(r fakeRequest, attempt int) (status int, graphqlError string, retryAfter string)
	tries map[string]int // by the variables' JSON: attempts so far

	inFlight, maxInFlight atomic.Int64
}

// fakeRequest is one validated request.
type fakeRequest struct {
	Operation string // updateSession or placeOrder
	Variables map[string]any
	key       string
}

func newFakeNosto(t testing.TB, token string) *fakeNosto {
	t.Helper()
	sdl, err := os.ReadFile("testdata/nosto.graphqls")
	if err != nil {
		t.Fatal(err)
	}
	schema, err := gqlparser.LoadSchema(&ast.Source{Name: "nosto.graphqls", Input: string(sdl)})
	if err != nil {
		t.Fatalf("schema: %v", err)
	}
	f := &fakeNosto{t: t, schema: schema, token: token, tries: map[string]int{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeNosto) url() string { return f.srv.URL + "/v1/graphql" }

func (f *fakeNosto) serve(w http.ResponseWriter, r *http.Request) {
	n := f.inFlight.Add(1)
	defer f.inFlight.Add(-1)
	for {
		m := f.maxInFlight.Load()
		if n <= m || f.maxInFlight.CompareAndSwap(m, n) {
			break
		}
	}
	w.Header().Set("X-Request-Id", "req-"+r.Header.Get("X-Test-Seq"))
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte(":"+f.token))
	if r.Header.Get("Authorization") != want {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	req, errMsg := f.validate(r)
	if errMsg != "" {
		f.t.Errorf("invalid request: %s", errMsg)
		writeJSON(w, map[string]any{"errors": []map[string]string{{"message": errMsg}}})
		return
	}
	f.mu.Lock()
	attempt := f.tries[req.key]
	f.tries[req.key] = attempt + 1
	f.mu.Unlock()
	if f.fail != nil {
		if status, gqlErr, ra := f.fail(req, attempt); status != 0 {
			if ra != "" {
				w.Header().Set("Retry-After", ra)
			}
			if status == http.StatusOK {
				writeJSON(w, map[string]any{"errors": []map[string]string{{"message": gqlErr}}})
				return
			}
			http.Error(w, http.StatusText(status), status)
			return
		}
	}
	f.mu.Lock()
	f.accepted = append(f.accepted, req)
	f.headers = append(f.headers, r.Header.Clone())
	f.mu.Unlock()
	writeJSON(w, map[string]any{"data": map[string]any{req.Operation: map[string]any{"id": "s1"}}})
}

// validate parses the body, the document and the variables.
func (f *fakeNosto) validate(r *http.Request) (fakeRequest, string) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return fakeRequest{}, err.Error()
	}
	var req struct {
		Query     string         `json:"query"`
		Variables map[string]any `json:"variables"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return fakeRequest{}, "body: " + err.Error()
	}
	doc, errs := gqlparser.LoadQuery(f.schema, req.Query)
	if len(errs) > 0 {
		return fakeRequest{}, "document: " + errs.Error()
	}
	if len(doc.Operations) != 1 {
		return fakeRequest{}, "want one operation"
	}
	op := doc.Operations[0]
	if _, err := validator.VariableValues(f.schema, op, req.Variables); err != nil {
		return fakeRequest{}, "variables: " + err.Error()
	}
	vars, _ := json.Marshal(req.Variables)
	return fakeRequest{Operation: op.SelectionSet[0].(*ast.Field).Name, Variables: req.Variables, key: string(vars)}, ""
}

func (f *fakeNosto) got() []fakeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeRequest(nil), f.accepted...)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// param digs a value out of a request's variables by a dotted path.
func param(r fakeRequest, path string) any {
	var cur any = r.Variables
	for _, k := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[k]
	}
	return cur
}
