package ha

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// The keys of one service under the prefix (default /svckit/ha):
//
//	<prefix>/<svc>/nodes/<node>      nodeRecord, attached to the node's lease: present while it lives
//	<prefix>/<svc>/members/<node>    memberRecord, persistent: the node has been a member (rejoin)
//	<prefix>/<svc>/placement/<pod>   Placement: the node and the lease that own the pod
//	<prefix>/<svc>/moves/<pod>       Move: a move recorded and in progress
//	<prefix>/<svc>/election/         etcd's election (concurrency.Election)
//	<prefix>/<svc>/primary           the primary's note: why nothing moves, when it says so
//	<prefix>/<svc>/relayout          a relayout asked, and the moves it still has to do
//	<prefix>/<svc>/events/<node>/<n> the last events of each node (a ring of eventRing slots)
//	<prefix>/<svc>/expiry/<node>     the node's published lease expiry, persistent (expiry.go)
type keys struct{ base string }

func newKeys(prefix, svcname string) keys {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	return keys{base: path.Join(prefix, svcname)}
}

func (k keys) nodes() string             { return k.base + "/nodes/" }
func (k keys) node(n string) string      { return k.nodes() + n }
func (k keys) members() string           { return k.base + "/members/" }
func (k keys) member(n string) string    { return k.members() + n }
func (k keys) placements() string        { return k.base + "/placement/" }
func (k keys) placement(p string) string { return k.placements() + p }
func (k keys) movesDir() string          { return k.base + "/moves/" }
func (k keys) move(p string) string      { return k.movesDir() + p }
func (k keys) election() string          { return k.base + "/election/" }
func (k keys) primaryNote() string       { return k.base + "/primary" }
func (k keys) relayout() string          { return k.base + "/relayout" }
func (k keys) seeded() string            { return k.base + "/seeded" }
func (k keys) events() string            { return k.base + "/events/" }
func (k keys) event(n string, i int) string {
	return fmt.Sprintf("%s%s/%03d", k.events(), n, i)
}

type nodeRecord struct {
	Node  string    `json:"node"`
	Lease int64     `json:"lease"`
	Since time.Time `json:"since"`
}

type memberRecord struct {
	// Rejoined: the node came back with a new lease; it gets no pod
	// until a relayout.
	Rejoined bool `json:"rejoined,omitempty"`
}

// Placement says which node owns a pod, and under which of its leases: a
// node runs a pod only while the lease recorded here is its own and
// alive. Lease 0 is the initial layout, not yet claimed.
type Placement struct {
	Node  string `json:"node"`
	Lease int64  `json:"lease"`
}

// Move is a move of a pod recorded in etcd and in progress.
type Move struct {
	Pod       string `json:"pod"`
	From      string `json:"from"`
	FromLease int64  `json:"from_lease"`
	To        string `json:"to"`
	Reason    string `json:"reason"`
	// Stopped: the source stopped the pod (a move between live nodes,
	// a relayout); a lost source needs none, its lease is gone.
	Stopped bool      `json:"stopped,omitempty"`
	Created time.Time `json:"created"`
	Primary string    `json:"primary"`
	// Attempts counts the destinations tried; Failed is why the last
	// one failed, FailedOn where.
	Attempts int      `json:"attempts"`
	Failed   string   `json:"failed,omitempty"`
	FailedOn []string `json:"failed_on,omitempty"`
	// GaveUp: MaxAttempts destinations failed; an operator decides.
	GaveUp bool `json:"gave_up,omitempty"`
}

type primaryNote struct {
	Primary string    `json:"primary"`
	Time    time.Time `json:"time"`
	Blocked string    `json:"blocked,omitempty"`
}

type relayoutRequest struct {
	Asked   time.Time `json:"asked"`
	Pending []Move    `json:"pending,omitempty"`
	Planned bool      `json:"planned"`
}

// Event is one decision of an agent, with its reason.
type Event struct {
	Time time.Time `json:"time"`
	Node string    `json:"node"`
	// Kind: lease, fence, elect, lost, unclaimed, move, up, fail, stop, start,
	// blocked, relayout.
	Kind string `json:"kind"`
	Pod  string `json:"pod,omitempty"`
	Msg  string `json:"msg"`
}

// snapshot is the service's HA state at one etcd revision.
type snapshot struct {
	rev        int64
	nodes      map[string]nodeRecord
	members    map[string]memberRecord
	placement  map[string]Placement
	placeRev   map[string]int64 // mod revisions
	moves      map[string]Move
	moveRev    map[string]int64
	relayout   *relayoutRequest
	relayRev   int64
	seeded     bool
	primaryKey string
	note       primaryNote
	// expiry: each node's last published lease expiry.
	expiry map[string]publishedExpiry
}

func (s *snapshot) alive(lease int64) bool {
	if lease == 0 {
		return false
	}
	for _, n := range s.nodes {
		if n.Lease == lease {
			return true
		}
	}
	return false
}

func (s *snapshot) pods() []string {
	out := make([]string, 0, len(s.placement))
	for p := range s.placement {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// read reads the whole state in one transaction (one revision,
// linearizable).
func read(ctx context.Context, cli *clientv3.Client, k keys) (*snapshot, error) {
	resp, err := cli.Txn(ctx).Then(
		clientv3.OpGet(k.nodes(), clientv3.WithPrefix()),
		clientv3.OpGet(k.members(), clientv3.WithPrefix()),
		clientv3.OpGet(k.placements(), clientv3.WithPrefix()),
		clientv3.OpGet(k.movesDir(), clientv3.WithPrefix()),
		clientv3.OpGet(k.relayout()),
		clientv3.OpGet(k.seeded()),
		clientv3.OpGet(k.election(), clientv3.WithFirstCreate()...),
		clientv3.OpGet(k.primaryNote()),
		clientv3.OpGet(k.expiries(), clientv3.WithPrefix()),
	).Commit()
	if err != nil {
		return nil, err
	}
	s := &snapshot{rev: resp.Header.Revision, nodes: map[string]nodeRecord{}, members: map[string]memberRecord{},
		placement: map[string]Placement{}, placeRev: map[string]int64{}, moves: map[string]Move{}, moveRev: map[string]int64{},
		expiry: map[string]publishedExpiry{}}
	r := resp.Responses
	for _, kv := range r[0].GetResponseRange().Kvs {
		var n nodeRecord
		if json.Unmarshal(kv.Value, &n) == nil {
			s.nodes[n.Node] = n
		}
	}
	for _, kv := range r[1].GetResponseRange().Kvs {
		var m memberRecord
		if json.Unmarshal(kv.Value, &m) == nil {
			s.members[path.Base(string(kv.Key))] = m
		}
	}
	for _, kv := range r[2].GetResponseRange().Kvs {
		var p Placement
		if json.Unmarshal(kv.Value, &p) == nil {
			pod := path.Base(string(kv.Key))
			s.placement[pod], s.placeRev[pod] = p, kv.ModRevision
		}
	}
	for _, kv := range r[3].GetResponseRange().Kvs {
		var m Move
		if json.Unmarshal(kv.Value, &m) == nil {
			pod := path.Base(string(kv.Key))
			s.moves[pod], s.moveRev[pod] = m, kv.ModRevision
		}
	}
	if kvs := r[4].GetResponseRange().Kvs; len(kvs) == 1 {
		var rr relayoutRequest
		if json.Unmarshal(kvs[0].Value, &rr) == nil {
			s.relayout, s.relayRev = &rr, kvs[0].ModRevision
		}
	}
	s.seeded = len(r[5].GetResponseRange().Kvs) == 1
	if kvs := r[6].GetResponseRange().Kvs; len(kvs) == 1 {
		s.primaryKey = string(kvs[0].Value)
	}
	if kvs := r[7].GetResponseRange().Kvs; len(kvs) == 1 {
		_ = json.Unmarshal(kvs[0].Value, &s.note)
	}
	for _, kv := range r[8].GetResponseRange().Kvs {
		if pe, ok := parseExpiry(kv.Value); ok {
			s.expiry[path.Base(string(kv.Key))] = pe
		}
	}
	return s, nil
}

func mustJSON(v any) string {
	// Only plain structs of this package are marshalled: no error.
	b, _ := json.Marshal(v)
	return string(b)
}
