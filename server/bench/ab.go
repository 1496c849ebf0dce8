package bench

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/pyplay/pyplay/server/bench/benchproto"
	"github.com/pyplay/pyplay/server/response"
	"github.com/pyplay/pyplay/snippets"
)

// A/B benchmarks (docs/bench.md, "A/B benchmarks"): POST /api/bench/ab
// creates one, its producer streams one run per (interpreter, runtime,
// arm) over /ws with run.start's ab link, and GET /api/bench/ab/{id}
// pairs their samples into rounds and compares the arms (abresult.go).

// maxListedABs bounds GET /api/bench/ab?snippet=ID.
const maxListedABs = 50

// abCreated is the body of 201 Created from POST /api/bench/ab.
type abCreated struct {
	ID  string `json:"id"`
	URL string `json:"url"`
}

// abPath is an A/B benchmark's live page.
func abPath(id string) string { return "/bench/ab/" + id }

// createAB is POST /api/bench/ab: check the body, that every arm's snippet
// exists, and store the benchmark under a new random ID.
func (l *Lab) createAB(c echo.Context) error {
	req, res := c.Request(), c.Response()
	response.NoStore(c)
	// A body refused unread would otherwise be drained to keep the
	// connection alive; it is not worth reading.
	refuse := func(err error) error {
		if req.ContentLength != 0 {
			res.Header().Set(echo.HeaderConnection, "close")
		}
		return err
	}
	if err := response.RequireJSON(req.Header.Get(echo.HeaderContentType), "the A/B benchmark"); err != nil {
		return refuse(err)
	}
	if req.ContentLength > snippets.MaxABBody {
		return refuse(snippets.Errorf(snippets.TooLarge, "request body is %d bytes; the limit is %d bytes", req.ContentLength, snippets.MaxABBody))
	}
	// Best effort: httptest's recorder, for one, cannot set deadlines.
	_ = http.NewResponseController(res).SetReadDeadline(time.Now().Add(bodyReadTimeout))
	ab, err := snippets.DecodeAB(http.MaxBytesReader(res, req.Body, snippets.MaxABBody))
	if err != nil {
		return err
	}
	if err := l.storeReady(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(req.Context(), requestTimeout)
	defer cancel()
	for i, id := range ab.Arms {
		// The snippet lookup of the rest of the server: an unknown arm is
		// told the same way as an unknown snippet anywhere.
		if _, err := l.cfg.Snippet(c, id); err != nil {
			if snippets.ErrorCode(err) == snippets.NotFound {
				return snippets.Errorf(snippets.NotFound, "%s: no snippet with ID %s; share the code first (POST /api/snippets)", strings.ToUpper(snippets.ABArms[i]), id)
			}
			return err
		}
	}
	ab.ID = snippets.NewABID()
	if g := l.cfg.Guard; g != nil {
		// The disk floor holds here as for every write (limits.go).
		if err := g.Writable(); err != nil {
			return response.StoreError(c, err)
		}
	}
	err = l.cfg.Store.CreateAB(ctx, ab)
	if g := l.cfg.Guard; g != nil {
		g.NoteWrite(err)
	}
	if err != nil {
		return response.StoreError(c, fmt.Errorf("create ab: %w", err))
	}
	res.Header().Set(echo.HeaderLocation, "/api/bench/ab/"+ab.ID)
	return c.JSON(http.StatusCreated, abCreated{ID: ab.ID, URL: abPath(ab.ID)})
}

// bodyReadTimeout bounds reading a POST body, so that a client trickling
// bytes cannot hold a handler (there is no global read timeout: WebSockets
// must not have one).
const bodyReadTimeout = 30 * time.Second

// lookupAB reads an A/B benchmark named in a request, answering 404 for an
// ID that cannot be one without asking the store.
func (l *Lab) lookupAB(c echo.Context, ctx context.Context, id string) (*snippets.AB, error) {
	if !snippets.ValidABID(id) {
		return nil, snippets.Errorf(snippets.NotFound, "no A/B benchmark with ID %q: IDs are %s", response.Truncate(id, 64), snippets.ABIDRule)
	}
	if err := l.storeReady(); err != nil {
		return nil, err
	}
	ab, err := l.cfg.Store.GetAB(ctx, id)
	if err != nil {
		return nil, response.StoreError(c, fmt.Errorf("get ab %s: %w", id, err))
	}
	return ab, nil
}

// getAB is GET /api/bench/ab/{id}: the benchmark with its results so far.
// The body is computed once per change of what is stored (abCache), so a
// producer and its viewers may poll it.
func (l *Lab) getAB(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), requestTimeout)
	defer cancel()
	ab, err := l.lookupAB(c, ctx, c.Param("id"))
	if err != nil {
		return err
	}
	r, err := l.abs.get(ctx, l, ab)
	if err != nil {
		return response.StoreError(c, err)
	}
	response.NoStore(c)
	return c.JSONBlob(http.StatusOK, r.body)
}

// abListing is GET /api/bench/ab?snippet=ID.
type abListing struct {
	ABs []abListed `json:"abs"`
}

// abListed is one A/B benchmark in a listing: the view without its rounds.
type abListed struct {
	ID       string         `json:"id"`
	URL      string         `json:"url"`
	A        string         `json:"a"`
	B        string         `json:"b"`
	C        string         `json:"c,omitempty"`
	Runtimes []string       `json:"runtimes"`
	Created  time.Time      `json:"created"`
	Rounds   int            `json:"rounds"`
	Done     bool           `json:"done"`
	Decided  bool           `json:"decided"`
	Results  []abResultView `json:"results"`
}

// listABs is GET /api/bench/ab?snippet=ID: the newest A/B benchmarks with
// that snippet as any arm, for the snippet's dashboard.
func (l *Lab) listABs(c echo.Context) error {
	id := c.QueryParam("snippet")
	if id == "" {
		return snippets.Errorf(snippets.Invalid, "snippet=ID is required: the ID of a shared snippet, as in /s/{id}")
	}
	if !snippets.ValidID(id) {
		return snippets.Errorf(snippets.Invalid, "snippet %q is not a snippet ID: IDs are 11 or more letters, digits, '-' and '_'", response.Truncate(id, 64))
	}
	if err := l.storeReady(); err != nil {
		return err
	}
	if _, err := l.cfg.Snippet(c, id); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), requestTimeout)
	defer cancel()
	abs, err := l.cfg.Store.ListABs(ctx, id, maxListedABs)
	if err != nil {
		return response.StoreError(c, fmt.Errorf("list abs of %s: %w", id, err))
	}
	out := abListing{ABs: make([]abListed, 0, len(abs))}
	for _, ab := range abs {
		r, err := l.abs.get(ctx, l, ab)
		if err != nil {
			return response.StoreError(c, err)
		}
		v := r.view
		out.ABs = append(out.ABs, abListed{ID: v.ID, URL: v.URL, A: v.A, B: v.B, C: v.C, Runtimes: v.Runtimes,
			Created: v.Created, Rounds: v.Rounds, Done: v.Done, Decided: v.Decided, Results: v.Results})
	}
	response.NoStore(c)
	return c.JSON(http.StatusOK, out)
}

// abPage is GET /bench/ab/{id}: the live page of an A/B benchmark.
func (l *Lab) abPage(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), requestTimeout)
	defer cancel()
	ab, err := l.lookupAB(c, ctx, c.Param("id"))
	if err != nil {
		return err
	}
	info := abInfo{ID: ab.ID, Arms: ab.Arms, Runtimes: ab.Runtimes, API: "/api/bench/ab/" + ab.ID}
	for _, id := range ab.Arms {
		sn, err := l.cfg.Snippet(c, id)
		if err != nil {
			return err
		}
		info.Snippets = append(info.Snippets, infoOf(sn))
	}
	p := l.page("A/B benchmark "+ab.ID+" · pyplay", nil)
	p.Config.AB = &info
	p.AB = &info
	return l.cfg.Render(c, http.StatusOK, "ab.html", p)
}

// abInfo is what the A/B page's config (and template) know of the
// benchmark before its results load: enough to subscribe to the arms'
// snippets over /ws and to name them.
type abInfo struct {
	ID       string        `json:"id"`
	Arms     []string      `json:"arms"` // snippet IDs, A first
	Snippets []snippetInfo `json:"snippets"`
	Runtimes []string      `json:"runtimes"`
	API      string        `json:"api"` // GET this for the results
}

// checkABLink checks a run.start's link to an A/B benchmark against the
// stored benchmark: it exists, has the arm, the arm's snippet is the
// run's, and the runtime is one of the benchmark's.
func (l *Lab) checkABLink(ctx context.Context, info *benchproto.RunInfo) error {
	link := info.AB
	ab, err := l.cfg.Store.GetAB(ctx, link.ID)
	if snippets.ErrorCode(err) == snippets.NotFound {
		return &benchproto.ProtoError{Code: benchproto.CodeNotFound,
			Message: fmt.Sprintf("payload.run.ab.id: no A/B benchmark with ID %s; create it with POST /api/bench/ab first", link.ID)}
	}
	if err != nil {
		return err
	}
	want, ok := ab.ArmSnippet(link.Arm)
	switch {
	case !ok:
		return &benchproto.ProtoError{Code: benchproto.CodeBadField,
			Message: fmt.Sprintf("payload.run.ab.arm: A/B benchmark %s has no arm %s (it has %s)", ab.ID, link.Arm, strings.Join(snippets.ABArms[:len(ab.Arms)], ", "))}
	case want != info.Snippet:
		return &benchproto.ProtoError{Code: benchproto.CodeBadField,
			Message: fmt.Sprintf("payload.run.snippet is %s, but arm %s of A/B benchmark %s is snippet %s", info.Snippet, link.Arm, ab.ID, want)}
	case !slices.Contains(ab.Runtimes, info.Runtime):
		return &benchproto.ProtoError{Code: benchproto.CodeBadField,
			Message: fmt.Sprintf("payload.run.runtime %s is not one of A/B benchmark %s's runtimes (%s)", info.Runtime, ab.ID, strings.Join(ab.Runtimes, ", "))}
	}
	return nil
}
