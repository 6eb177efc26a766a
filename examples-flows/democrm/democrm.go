// Package democrm is a small demo CRM that the example flows' http nodes
// call, so the examples run offline. `voxflow dev` serves it under
// /demo/crm; the simulator starts its own on loopback.
package democrm

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
)

// Customer is a CRM record, keyed by phone number.
type Customer struct {
	Name    string  `json:"name"`
	Tier    string  `json:"tier"`
	Account string  `json:"account"`
	Balance float64 `json:"balance"`
	pin     string
}

// Appointment is an upcoming appointment, keyed by the customer's phone.
type Appointment struct {
	ID     string `json:"id"`
	Time   string `json:"time"`
	Status string `json:"status"`
}

// CRM holds the demo data. Its state changes (confirmations) stay in memory.
type CRM struct {
	mu           sync.Mutex
	customers    map[string]*Customer
	appointments map[string]*Appointment
}

// New returns the CRM with its demo data. Callers in the examples:
// +15550100 (gold, PIN 1234), +15550101 (silver, PIN 4321), +15550102 (standard, PIN 0000).
func New() *CRM {
	return &CRM{
		customers: map[string]*Customer{
			"+15550100": {Name: "Ada Lovelace", Tier: "gold", Account: "ACC-100", Balance: 1234.56, pin: "1234"},
			"+15550101": {Name: "Alan Turing", Tier: "silver", Account: "ACC-101", Balance: 42, pin: "4321"},
			"+15550102": {Name: "Grace Hopper", Tier: "standard", Account: "ACC-102", Balance: 0.5, pin: "0000"},
		},
		appointments: map[string]*Appointment{
			"+15550100": {ID: "APT-1", Time: "Monday at 10 AM", Status: "booked"},
			"+15550102": {ID: "APT-2", Time: "Tuesday at 3 PM", Status: "booked"},
		},
	}
}

// Handler serves the CRM; mount it with http.StripPrefix.
//
//	GET  /customers?phone=N            -> Customer or 404
//	GET  /accounts/{account}/balance   -> {"balance": n}
//	POST /accounts/{account}/verify    {"pin": "1234"} -> {"ok": bool}
//	GET  /appointments?phone=N         -> Appointment or 404
//	POST /appointments/{id}/confirm|cancel -> Appointment
func (c *CRM) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /customers", func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		defer c.mu.Unlock()
		cu, ok := c.customers[phone(r)]
		if !ok {
			http.Error(w, `{"error":"no customer with that phone"}`, http.StatusNotFound)
			return
		}
		writeJSON(w, cu)
	})
	mux.HandleFunc("GET /accounts/{account}/balance", func(w http.ResponseWriter, r *http.Request) {
		cu := c.byAccount(r.PathValue("account"))
		if cu == nil {
			http.Error(w, `{"error":"no such account"}`, http.StatusNotFound)
			return
		}
		writeJSON(w, map[string]any{"balance": cu.Balance})
	})
	mux.HandleFunc("POST /accounts/{account}/verify", func(w http.ResponseWriter, r *http.Request) {
		cu := c.byAccount(r.PathValue("account"))
		var body struct {
			PIN string `json:"pin"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&body); err != nil {
			http.Error(w, `{"error":"want {\"pin\": \"...\"}"}`, http.StatusBadRequest)
			return
		}
		writeJSON(w, map[string]any{"ok": cu != nil && body.PIN == cu.pin})
	})
	mux.HandleFunc("GET /appointments", func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		defer c.mu.Unlock()
		a, ok := c.appointments[phone(r)]
		if !ok {
			http.Error(w, `{"error":"no appointment"}`, http.StatusNotFound)
			return
		}
		writeJSON(w, a)
	})
	mux.HandleFunc("POST /appointments/{id}/{action}", func(w http.ResponseWriter, r *http.Request) {
		status := map[string]string{"confirm": "confirmed", "cancel": "cancelled"}[r.PathValue("action")]
		if status == "" {
			http.Error(w, `{"error":"action is confirm or cancel"}`, http.StatusNotFound)
			return
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, a := range c.appointments {
			if a.ID == r.PathValue("id") {
				a.Status = status
				writeJSON(w, a)
				return
			}
		}
		http.Error(w, `{"error":"no such appointment"}`, http.StatusNotFound)
	})
	return mux
}

func (c *CRM) byAccount(account string) *Customer {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, cu := range c.customers {
		if cu.Account == account {
			return cu
		}
	}
	return nil
}

// phone reads ?phone=, tolerating a '+' decoded as a space.
func phone(r *http.Request) string {
	p := strings.TrimSpace(r.URL.Query().Get("phone"))
	if p != "" && p[0] != '+' && strings.HasPrefix(r.URL.RawQuery, "phone=+") {
		p = "+" + p
	}
	if p != "" && p[0] >= '0' && p[0] <= '9' && len(p) > 6 {
		p = "+" + p
	}
	return p
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
