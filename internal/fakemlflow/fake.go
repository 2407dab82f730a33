// Package fakemlflow is a small in-memory MLflow tracking server: the REST
// endpoints the mlflow package uses, with the real server's semantics where
// they matter to a client (error bodies and statuses, log-batch limits,
// write-once params, overwritten tags, identical metric points kept once,
// NaN kept, ±Inf stored as ±MaxFloat64, deleted runs refusing writes,
// paged metric history). It is for fast tests; integration tests use the real
// server.
package fakemlflow

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
)

// Server is the in-memory tracking server; it is an http.Handler. The zero
// value is not usable: call New.
type Server struct {
	mu      sync.Mutex
	exps    map[string]*experiment // by id
	byName  map[string]string      // experiment name -> id
	runs    map[string]*run
	nextExp int
	nextRun int
	writes  int // requests that changed state
	now     func() time.Time
	token   string
	user    string
	pass    string
	mux     *http.ServeMux
}

// Option configures a Server.
type Option func(*Server)

// WithToken makes the server demand "Authorization: Bearer token" (401
// without it, 403 with another one). Refusals are answered as MLflow's auth
// app answers them, in text: 401 with WWW-Authenticate, 403 "Permission
// denied".
func WithToken(token string) Option { return func(s *Server) { s.token = token } }

// WithBasicAuth makes the server demand these basic-auth credentials.
func WithBasicAuth(user, pass string) Option {
	return func(s *Server) { s.user, s.pass = user, pass }
}

// WithClock sets the server's clock (creation times).
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

type experiment struct {
	id, name, stage string
	created         int64
}

type run struct {
	id, name, expID, status, stage, user string
	start, end                           int64
	params                               map[string]string
	tags                                 map[string]string
	metrics                              map[string][]point
	seen                                 map[pointKey]bool
}

type point struct {
	value     float64
	timestamp int64
	step      int64
}

type pointKey struct {
	key       string
	bits      uint64
	timestamp int64
	step      int64
}

// New returns an empty server with MLflow's "Default" experiment (id 0).
func New(opts ...Option) *Server {
	s := &Server{
		exps:   map[string]*experiment{},
		byName: map[string]string{},
		runs:   map[string]*run{},
		now:    time.Now,
		mux:    http.NewServeMux(),
	}
	for _, o := range opts {
		o(s)
	}
	s.exps["0"] = &experiment{id: "0", name: "Default", stage: "active"}
	s.byName["Default"] = "0"
	s.nextExp = 1
	const p = "/api/2.0/mlflow/"
	s.mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("OK")) })
	s.mux.HandleFunc("GET "+p+"experiments/get-by-name", s.getExperimentByName)
	s.mux.HandleFunc("POST "+p+"experiments/create", s.createExperiment)
	s.mux.HandleFunc("POST "+p+"experiments/delete", s.deleteExperiment)
	s.mux.HandleFunc("POST "+p+"runs/create", s.createRun)
	s.mux.HandleFunc("GET "+p+"runs/get", s.getRun)
	s.mux.HandleFunc("POST "+p+"runs/update", s.updateRun)
	s.mux.HandleFunc("POST "+p+"runs/delete", s.deleteRun)
	s.mux.HandleFunc("POST "+p+"runs/log-batch", s.logBatch)
	s.mux.HandleFunc("POST "+p+"runs/search", s.searchRuns)
	s.mux.HandleFunc("GET "+p+"metrics/get-history", s.getHistory)
	return s
}

// Writes returns how many requests changed the server's state.
func (s *Server) Writes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writes
}

// RunCount returns the number of runs, deleted ones included.
func (s *Server) RunCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.runs)
}

// ServeHTTP serves MLflow's REST API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		return
	}
	if r.Method == http.MethodPost {
		ct := r.Header.Get("Content-Type")
		if ct == "" {
			writeError(w, 400, "INVALID_PARAMETER_VALUE", "Bad Request. Content-Type header is missing.")
			return
		}
		if mt, _, _ := strings.Cut(ct, ";"); strings.TrimSpace(mt) != "application/json" {
			writeError(w, 400, "INVALID_PARAMETER_VALUE", "Bad Request. Content-Type must be one of ['application/json'].")
			return
		}
	}
	h, pattern := s.mux.Handler(r)
	if pattern == "" {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte("<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n"))
		return
	}
	h.ServeHTTP(w, r)
}

func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	if s.token == "" && s.user == "" {
		return true
	}
	got := r.Header.Get("Authorization")
	if got == "" {
		// MLflow's auth app answers in text, not in its JSON error body.
		w.Header().Set("WWW-Authenticate", `Basic realm="mlflow"`)
		writeText(w, 401, "You are not authenticated. Please see https://www.mlflow.org/docs/latest/auth/index.html#authenticating-to-mlflow on how to authenticate.")
		return false
	}
	ok := false
	if s.token != "" && got == "Bearer "+s.token {
		ok = true
	}
	if u, p, has := r.BasicAuth(); has && s.user != "" && u == s.user && p == s.pass {
		ok = true
	}
	if !ok {
		writeText(w, 403, "Permission denied")
	}
	return ok
}

// writeText answers as MLflow's auth app does: a text/html body, no JSON.
func writeText(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(msg))
}

// writeError answers an MLflow error body; 3.x adds sqlstate and
// error_class beside error_code and message.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	class := code
	if code == "RESOURCE_DOES_NOT_EXIST" {
		class = "RESOURCE_NOT_FOUND"
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error_code": code, "message": msg, "sqlstate": "KAM00", "error_class": class})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// decode reads a JSON body; a bad one is answered 400 MALFORMED_REQUEST
// as MLflow's protobuf parser does.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<20)).Decode(v); err != nil {
		writeError(w, 400, "MALFORMED_REQUEST", "Failed to parse request body: "+err.Error())
		return false
	}
	return true
}

func (s *Server) getExperimentByName(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("experiment_name")
	if name == "" {
		writeError(w, 400, "INVALID_PARAMETER_VALUE", "Missing value for required parameter 'experiment_name'. See the API docs for more information about request parameters.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.byName[name]
	if !ok {
		writeError(w, 404, "RESOURCE_DOES_NOT_EXIST", fmt.Sprintf("Could not find experiment with name '%s'", name))
		return
	}
	writeJSON(w, map[string]any{"experiment": s.exps[id].json()})
}

func (e *experiment) json() map[string]any {
	return map[string]any{"experiment_id": e.id, "name": e.name, "lifecycle_stage": e.stage,
		"artifact_location": "mlflow-artifacts:/" + e.id, "creation_time": e.created, "last_update_time": e.created}
}

func (s *Server) createExperiment(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name string `json:"name"`
	}
	if !decode(w, r, &in) {
		return
	}
	if in.Name == "" {
		writeError(w, 400, "INVALID_PARAMETER_VALUE", "Missing value for required parameter 'name'. See the API docs for more information about request parameters.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byName[in.Name]; ok {
		writeError(w, 400, "RESOURCE_ALREADY_EXISTS", fmt.Sprintf("Experiment(name=%s) already exists. Error: (UNIQUE constraint failed: experiments.name)", in.Name))
		return
	}
	id := strconv.Itoa(s.nextExp)
	s.nextExp++
	s.exps[id] = &experiment{id: id, name: in.Name, stage: "active", created: s.now().UnixMilli()}
	s.byName[in.Name] = id
	s.writes++
	writeJSON(w, map[string]any{"experiment_id": id})
}

func (s *Server) deleteExperiment(w http.ResponseWriter, r *http.Request) {
	var in struct {
		ID string `json:"experiment_id"`
	}
	if !decode(w, r, &in) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.exps[in.ID]
	if !ok {
		writeError(w, 404, "RESOURCE_DOES_NOT_EXIST", fmt.Sprintf("No Experiment with id=%s exists", in.ID))
		return
	}
	e.stage = "deleted"
	s.writes++
	writeJSON(w, map[string]any{})
}

type tagJSON struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

func (s *Server) createRun(w http.ResponseWriter, r *http.Request) {
	var in struct {
		ExperimentID string    `json:"experiment_id"`
		RunName      string    `json:"run_name"`
		StartTime    flexInt   `json:"start_time"`
		Tags         []tagJSON `json:"tags"`
		UserID       string    `json:"user_id"`
	}
	if !decode(w, r, &in) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if in.ExperimentID == "" {
		in.ExperimentID = "0"
	}
	e, ok := s.exps[in.ExperimentID]
	if !ok {
		writeError(w, 404, "RESOURCE_DOES_NOT_EXIST", fmt.Sprintf("No Experiment with id=%s exists", in.ExperimentID))
		return
	}
	if e.stage != "active" {
		writeError(w, 400, "INVALID_STATE", fmt.Sprintf("The experiment %s must be in the 'active' state. Current state is %s.", e.id, e.stage))
		return
	}
	s.nextRun++
	id := fmt.Sprintf("%032x", s.nextRun)
	name := in.RunName
	if name == "" {
		name = "run-" + strconv.Itoa(s.nextRun)
	}
	ru := &run{id: id, name: name, expID: e.id, user: in.UserID, status: "RUNNING", stage: "active", start: int64(in.StartTime),
		params: map[string]string{}, tags: map[string]string{"mlflow.runName": name},
		metrics: map[string][]point{}, seen: map[pointKey]bool{}}
	for _, t := range in.Tags {
		ru.tags[t.Key] = t.Value
	}
	s.runs[id] = ru
	s.writes++
	writeJSON(w, map[string]any{"run": ru.json()})
}

func (ru *run) info() map[string]any {
	m := map[string]any{"run_id": ru.id, "run_uuid": ru.id, "run_name": ru.name, "experiment_id": ru.expID, "user_id": ru.user,
		"status": ru.status, "start_time": ru.start, "lifecycle_stage": ru.stage,
		"artifact_uri": "mlflow-artifacts:/" + ru.expID + "/" + ru.id + "/artifacts"}
	if ru.end != 0 {
		m["end_time"] = ru.end
	}
	return m
}

func (ru *run) json() map[string]any {
	var metrics []map[string]any
	keys := make([]string, 0, len(ru.metrics))
	for k := range ru.metrics {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		pts := ru.metrics[k]
		if len(pts) == 0 {
			continue
		}
		latest := pts[0]
		for _, p := range pts[1:] {
			if p.step > latest.step || (p.step == latest.step && p.timestamp > latest.timestamp) {
				latest = p
			}
		}
		metrics = append(metrics, metricJSON(k, latest))
	}
	data := map[string]any{}
	if len(metrics) > 0 {
		data["metrics"] = metrics
	}
	if ps := sortedPairs(ru.params); len(ps) > 0 {
		data["params"] = ps
	}
	if ts := sortedPairs(ru.tags); len(ts) > 0 {
		data["tags"] = ts
	}
	return map[string]any{"info": ru.info(), "data": data}
}

func sortedPairs(m map[string]string) []tagJSON {
	out := make([]tagJSON, 0, len(m))
	for k, v := range m {
		out = append(out, tagJSON{k, v})
	}
	slices.SortFunc(out, func(a, b tagJSON) int { return strings.Compare(a.Key, b.Key) })
	return out
}

func metricJSON(key string, p point) map[string]any {
	var v any = p.value
	if math.IsNaN(p.value) {
		v = "NaN"
	}
	return map[string]any{"key": key, "value": v, "timestamp": p.timestamp, "step": p.step}
}

// lookup returns the run for a request, answering the error itself when
// there is none (or, with active, when it is deleted).
func (s *Server) lookup(w http.ResponseWriter, id string, active bool) *run {
	if id == "" {
		writeError(w, 400, "INVALID_PARAMETER_VALUE", "Missing value for required parameter 'run_id'. See the API docs for more information about request parameters.")
		return nil
	}
	ru, ok := s.runs[id]
	if !ok {
		writeError(w, 404, "RESOURCE_DOES_NOT_EXIST", fmt.Sprintf("Run with id=%s not found", id))
		return nil
	}
	if active && ru.stage != "active" {
		writeError(w, 400, "INVALID_PARAMETER_VALUE", fmt.Sprintf("The run %s must be in the 'active' state. Current state is %s.", id, ru.stage))
		return nil
	}
	return ru
}

func (s *Server) getRun(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ru := s.lookup(w, r.URL.Query().Get("run_id"), false); ru != nil {
		writeJSON(w, map[string]any{"run": ru.json()})
	}
}

func (s *Server) updateRun(w http.ResponseWriter, r *http.Request) {
	var in struct {
		RunID   string   `json:"run_id"`
		Status  string   `json:"status"`
		EndTime *flexInt `json:"end_time"`
		RunName string   `json:"run_name"`
	}
	if !decode(w, r, &in) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ru := s.lookup(w, in.RunID, true)
	if ru == nil {
		return
	}
	switch in.Status {
	case "", "RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED":
	default:
		writeError(w, 400, "INVALID_PARAMETER_VALUE", fmt.Sprintf("Invalid value \"%s\" for parameter 'status' supplied.", in.Status))
		return
	}
	if in.Status != "" {
		ru.status = in.Status
	}
	if in.EndTime != nil {
		ru.end = int64(*in.EndTime)
	}
	if in.RunName != "" {
		ru.name = in.RunName
		ru.tags["mlflow.runName"] = in.RunName
	}
	s.writes++
	writeJSON(w, map[string]any{"run_info": ru.info()})
}

func (s *Server) deleteRun(w http.ResponseWriter, r *http.Request) {
	var in struct {
		RunID string `json:"run_id"`
	}
	if !decode(w, r, &in) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if ru := s.lookup(w, in.RunID, false); ru != nil {
		ru.stage = "deleted"
		s.writes++
		writeJSON(w, map[string]any{})
	}
}

func (s *Server) logBatch(w http.ResponseWriter, r *http.Request) {
	var in struct {
		RunID   string `json:"run_id"`
		Metrics []struct {
			Key       string    `json:"key"`
			Value     flexFloat `json:"value"`
			Timestamp flexInt   `json:"timestamp"`
			Step      flexInt   `json:"step"`
		} `json:"metrics"`
		Params []tagJSON `json:"params"`
		Tags   []tagJSON `json:"tags"`
	}
	if !decode(w, r, &in) {
		return
	}
	nm, np, nt := len(in.Metrics), len(in.Params), len(in.Tags)
	switch {
	case nm > 1000:
		writeError(w, 400, "INVALID_PARAMETER_VALUE", fmt.Sprintf("A batch logging request can contain at most 1000 metrics. Got %d metrics. Please split up metrics across multiple requests and try again.", nm))
		return
	case np > 100:
		writeError(w, 400, "INVALID_PARAMETER_VALUE", fmt.Sprintf("A batch logging request can contain at most 100 params. Got %d params. Please split up params across multiple requests and try again.", np))
		return
	case nt > 100:
		writeError(w, 400, "INVALID_PARAMETER_VALUE", fmt.Sprintf("A batch logging request can contain at most 100 tags. Got %d tags. Please split up tags across multiple requests and try again.", nt))
		return
	case nm+np+nt > 1000:
		writeError(w, 400, "INVALID_PARAMETER_VALUE", fmt.Sprintf("A batch logging request can contain at most 1000 total metrics, params, and tags. Got %d metrics, %d params, and %d tags. Please split up across multiple requests and try again.", nm, np, nt))
		return
	}
	for i, m := range in.Metrics {
		if msg := badKey(m.Key, "Metric name", fmt.Sprintf("metrics[%d].name", i)); msg != "" {
			writeError(w, 400, "INVALID_PARAMETER_VALUE", msg)
			return
		}
		if m.Timestamp < 0 {
			writeError(w, 400, "INVALID_PARAMETER_VALUE", fmt.Sprintf("Invalid value %d for parameter 'metrics[%d].timestamp' supplied: metric '%s' (value=%v). Timestamp must be a nonnegative long (64-bit integer) ", m.Timestamp, i, m.Key, float64(m.Value)))
			return
		}
	}
	for i, p := range in.Params {
		if msg := badKey(p.Key, "Param key", fmt.Sprintf("params[%d].key", i)); msg != "" {
			writeError(w, 400, "INVALID_PARAMETER_VALUE", msg)
			return
		}
	}
	for i, t := range in.Tags {
		if msg := badKey(t.Key, "Tag key", fmt.Sprintf("tags[%d].key", i)); msg != "" {
			writeError(w, 400, "INVALID_PARAMETER_VALUE", msg)
			return
		}
	}
	seenParam := map[string]bool{}
	var dups []string
	for _, p := range in.Params {
		if seenParam[p.Key] {
			dups = append(dups, p.Key)
		}
		seenParam[p.Key] = true
	}
	if len(dups) > 0 {
		writeError(w, 400, "INVALID_PARAMETER_VALUE", fmt.Sprintf("Duplicate parameter keys have been submitted: %q. Please ensure the request contains only one param value per param key.", dups))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ru := s.lookup(w, in.RunID, true)
	if ru == nil {
		return
	}
	// Params first, all or nothing, as the SQL store does.
	var changed []string
	for _, p := range in.Params {
		if old, ok := ru.params[p.Key]; ok && old != truncate(p.Value, 6000) {
			changed = append(changed, fmt.Sprintf("{'key': '%s', 'old_value': '%s', 'new_value': '%s'}", p.Key, old, p.Value))
		}
	}
	if len(changed) > 0 {
		writeError(w, 400, "INVALID_PARAMETER_VALUE", fmt.Sprintf("Changing param values is not allowed. Params were already logged='[%s]' for run ID='%s'.", strings.Join(changed, ", "), ru.id))
		return
	}
	// The real server truncates long values silently (3.17).
	for _, p := range in.Params {
		ru.params[p.Key] = truncate(p.Value, 6000)
	}
	for _, m := range in.Metrics {
		v := float64(m.Value)
		switch {
		case math.IsInf(v, 1):
			v = math.MaxFloat64
		case math.IsInf(v, -1):
			v = -math.MaxFloat64
		}
		bits := math.Float64bits(v)
		if math.IsNaN(v) {
			bits = math.Float64bits(math.NaN())
		}
		k := pointKey{m.Key, bits, int64(m.Timestamp), int64(m.Step)}
		if ru.seen[k] {
			continue
		}
		ru.seen[k] = true
		ru.metrics[m.Key] = append(ru.metrics[m.Key], point{v, int64(m.Timestamp), int64(m.Step)})
	}
	for _, t := range in.Tags {
		ru.tags[t.Key] = truncate(t.Value, 8000)
	}
	s.writes++
	writeJSON(w, map[string]any{})
}

func (s *Server) searchRuns(w http.ResponseWriter, r *http.Request) {
	var in struct {
		ExperimentIDs []string `json:"experiment_ids"`
		Filter        string   `json:"filter"`
		MaxResults    int      `json:"max_results"`
	}
	if !decode(w, r, &in) {
		return
	}
	var key, value string
	if in.Filter != "" {
		// Only the form the mlflow package uses: tags.`KEY` = 'VALUE'.
		f := strings.TrimSpace(in.Filter)
		lhs, rhs, ok := strings.Cut(f, " = ")
		if !ok || !strings.HasPrefix(lhs, "tags.`") || !strings.HasSuffix(lhs, "`") || len(rhs) < 2 || rhs[0] != '\'' || rhs[len(rhs)-1] != '\'' {
			writeError(w, 400, "INVALID_PARAMETER_VALUE", "Invalid filter '"+in.Filter+"' (the fake supports tags.`K` = 'V' only)")
			return
		}
		key, value = lhs[len("tags.`"):len(lhs)-1], rhs[1:len(rhs)-1]
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	ids := make([]string, 0, len(s.runs))
	for id := range s.runs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		ru := s.runs[id]
		if ru.stage != "active" || !slices.Contains(in.ExperimentIDs, ru.expID) {
			continue
		}
		if key != "" && ru.tags[key] != value {
			continue
		}
		out = append(out, ru.json())
		if in.MaxResults > 0 && len(out) == in.MaxResults {
			break
		}
	}
	res := map[string]any{}
	if len(out) > 0 {
		res["runs"] = out
	}
	writeJSON(w, res)
}

func (s *Server) getHistory(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	key := q.Get("metric_key")
	s.mu.Lock()
	defer s.mu.Unlock()
	if q.Get("run_id") == "" {
		s.lookup(w, "", false)
		return
	}
	ru, ok := s.runs[q.Get("run_id")]
	if !ok {
		writeJSON(w, map[string]any{}) // the real server answers 200 {} for an unknown run
		return
	}
	if key == "" {
		writeError(w, 400, "INVALID_PARAMETER_VALUE", "Missing value for required parameter 'metric_key'. See the API docs for more information about request parameters.")
		return
	}
	pts := slices.Clone(ru.metrics[key])
	slices.SortStableFunc(pts, func(a, b point) int {
		if a.step != b.step {
			return cmpInt(a.step, b.step)
		}
		return cmpInt(a.timestamp, b.timestamp)
	})
	offset := 0
	if tok := q.Get("page_token"); tok != "" {
		raw, err := base64.StdEncoding.DecodeString(tok)
		var t struct {
			Offset int `json:"offset"`
		}
		if err != nil || json.Unmarshal(raw, &t) != nil || t.Offset < 0 || t.Offset > len(pts) {
			writeError(w, 400, "INVALID_PARAMETER_VALUE", "Invalid page token, could not base64-decode")
			return
		}
		offset = t.Offset
	}
	end := len(pts)
	if mr, err := strconv.Atoi(q.Get("max_results")); err == nil && mr > 0 && offset+mr < end {
		end = offset + mr
	}
	metrics := make([]map[string]any, 0, end-offset)
	for _, p := range pts[offset:end] {
		metrics = append(metrics, metricJSON(key, p))
	}
	res := map[string]any{"metrics": metrics}
	if end < len(pts) {
		b, _ := json.Marshal(map[string]int{"offset": end})
		res["next_page_token"] = base64.StdEncoding.EncodeToString(b)
	}
	writeJSON(w, res)
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// flexInt is a protobuf JSON int64: a number or a string.
type flexInt int64

func (v *flexInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("invalid int64 %s", b)
	}
	*v = flexInt(n)
	return nil
}

// flexFloat is a protobuf JSON double: a number or "NaN", "Infinity",
// "-Infinity".
type flexFloat float64

func (v *flexFloat) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case `"NaN"`:
		*v = flexFloat(math.NaN())
	case `"Infinity"`:
		*v = flexFloat(math.Inf(1))
	case `"-Infinity"`:
		*v = flexFloat(math.Inf(-1))
	default:
		f, err := strconv.ParseFloat(strings.Trim(string(b), `"`), 64)
		if err != nil {
			return fmt.Errorf("invalid double %s", b)
		}
		*v = flexFloat(f)
	}
	return nil
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}

// badKey returns the real server's message for a key it refuses, or "".
func badKey(key, what, param string) string {
	if key == "" {
		return fmt.Sprintf("Missing value for required parameter '%s'. See the API docs for more information about request parameters.", strings.Replace(param, ".name", ".key", 1))
	}
	if len([]rune(key)) > 250 {
		return fmt.Sprintf("'%s' exceeds the maximum length of 250 characters", what)
	}
	for _, r := range key {
		if !(unicode.IsLetter(r) || unicode.IsNumber(r) || strings.ContainsRune("_-. :/", r)) {
			return fmt.Sprintf("Invalid value \"%s\" for parameter '%s' supplied: Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and slashes (/).", key, param)
		}
	}
	if key == "." || strings.HasPrefix(key, "..") || strings.HasPrefix(key, "/") || path.Clean(key) != key {
		return fmt.Sprintf("Invalid value \"%s\" for parameter '%s' supplied: Names may be treated as files in certain cases, and must not resolve to other names when treated as such. This name would resolve to '%s'", key, param, path.Clean(key))
	}
	return ""
}
