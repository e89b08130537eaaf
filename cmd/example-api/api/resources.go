package api

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Project is a project of an organization.
type Project struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by"`
}

// maxProjects bounds each organization's projects: they live in memory.
const maxProjects = 1000

// projectStore keeps projects in memory, per organization.
type projectStore struct {
	mu    sync.Mutex
	byOrg map[string][]Project
}

func newProjectStore() *projectStore { return &projectStore{byOrg: map[string][]Project{}} }

var errTooManyProjects = errors.New("too many projects")

func (ps *projectStore) list(org string) []Project {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return append([]Project{}, ps.byOrg[org]...)
}

func (ps *projectStore) add(org string, p Project) error {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if len(ps.byOrg[org]) >= maxProjects {
		return errTooManyProjects
	}
	ps.byOrg[org] = append(ps.byOrg[org], p)
	return nil
}

// GET /v1/projects: the organization's projects.
func (s *Server) listProjects(w http.ResponseWriter, _ *http.Request, c *Caller) {
	writeJSON(w, http.StatusOK, struct {
		Projects []Project `json:"projects"`
		Caller   *Caller   `json:"caller"`
	}{s.projects.list(c.Org), c})
}

// POST /v1/projects: create a project from {"name": "..."}.
func (s *Server) createProject(w http.ResponseWriter, r *http.Request, c *Caller) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		writeJSON(w, http.StatusUnsupportedMediaType, errorBody{Error: "invalid_request",
			Description: `Send the project as JSON: Content-Type: application/json and {"name": "..."}.`, Caller: c})
		return
	}
	var in struct {
		Name string `json:"name"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	if err := dec.Decode(&in); err != nil || dec.Decode(&struct{}{}) != io.EOF {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: "invalid_request",
			Description: `The body must be one JSON object: {"name": "..."}.`, Caller: c})
		return
	}
	name := strings.Join(strings.Fields(in.Name), " ")
	if name == "" || len([]rune(name)) > 100 {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: "invalid_request",
			Description: "A project needs a name of 1 to 100 characters.", Caller: c})
		return
	}
	p := Project{
		ID:        "prj_" + strings.ToLower(rand.Text()[:16]),
		Name:      name,
		CreatedAt: s.opts.Now().UTC().Truncate(time.Second),
		CreatedBy: c.Subject,
	}
	if p.CreatedBy == "" {
		p.CreatedBy = c.ClientID
	}
	if err := s.projects.add(c.Org, p); err != nil {
		writeJSON(w, http.StatusConflict, errorBody{Error: "too_many_projects",
			Description: "This example keeps at most 1000 projects per organization.", Caller: c})
		return
	}
	writeJSON(w, http.StatusCreated, struct {
		Project Project `json:"project"`
		Caller  *Caller `json:"caller"`
	}{p, c})
}

// teamMember is a person of the team; the example knows only the caller.
type teamMember struct {
	UserID string `json:"user_id"`
	You    bool   `json:"you"`
}

// teamInfo is what GET /v1/team answers.
type teamInfo struct {
	Org         string       `json:"org"`
	Members     []teamMember `json:"members"`
	Invitations []string     `json:"invitations"`
	Seats       int          `json:"seats"`
}

// GET /v1/team: the organization's team, as far as a token tells.
func (s *Server) team(w http.ResponseWriter, _ *http.Request, c *Caller) {
	t := teamInfo{Org: c.Org, Members: []teamMember{}, Invitations: []string{}, Seats: 5}
	if c.Subject != "" {
		t.Members = append(t.Members, teamMember{UserID: c.Subject, You: true})
	}
	writeJSON(w, http.StatusOK, struct {
		Team   teamInfo `json:"team"`
		Caller *Caller  `json:"caller"`
	}{t, c})
}

// GET /v1/billing: the organization's plan and invoices.
func (s *Server) billing(w http.ResponseWriter, _ *http.Request, c *Caller) {
	type invoice struct {
		ID          string `json:"id"`
		Period      string `json:"period"`
		AmountCents int    `json:"amount_cents"`
		Status      string `json:"status"`
	}
	last := s.opts.Now().UTC().AddDate(0, -1, 0)
	writeJSON(w, http.StatusOK, map[string]any{
		"billing": map[string]any{
			"org":      c.Org,
			"plan":     "team",
			"currency": "usd",
			"invoices": []invoice{{
				ID: "inv_" + last.Format("200601"), Period: last.Format("2006-01"), AmountCents: 4900, Status: "paid",
			}},
		},
		"caller": c,
	})
}
