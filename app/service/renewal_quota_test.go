package service_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"consulvote/app/portal"
	"consulvote/app/service"
)

// renewalKinds are both renewal requests, each with the data of a
// stranger who holds only marie's NUMIC (i: a different wrong guess) and
// with marie's own.
var renewalKinds = []struct {
	kind            string
	stranger, voter func(e *env, ctx context.Context, i int) error
	served          func(e *env) // fails unless marie's own request went out
}{
	{"identifier",
		func(e *env, ctx context.Context, i int) error {
			return e.svc.Portal.RequestIdentifierRenewal(ctx, portal.IdentifierRenewalRequest{NUMIC: marie.NUMIC,
				Email: fmt.Sprintf("guess%d@example.org", i), CodeID: e.code(), Code: rightCode})
		},
		func(e *env, ctx context.Context, _ int) error {
			return e.svc.Portal.RequestIdentifierRenewal(ctx, portal.IdentifierRenewalRequest{NUMIC: marie.NUMIC,
				Email: marie.Email, CodeID: e.code(), Code: rightCode})
		},
		func(e *env) { e.lastLink() }},
	{"password",
		func(e *env, ctx context.Context, i int) error {
			return e.svc.Portal.RequestPasswordRenewal(ctx, portal.PasswordRenewalRequest{NUMIC: marie.NUMIC,
				Identifier: fmt.Sprintf("guess%07dxy", i), CodeID: e.code(), Code: rightCode})
		},
		func(e *env, ctx context.Context, _ int) error {
			return e.svc.Portal.RequestPasswordRenewal(ctx, portal.PasswordRenewalRequest{NUMIC: marie.NUMIC,
				Identifier: marie.Identifier, CodeID: e.code(), Code: rightCode})
		},
		func(e *env) { e.lastSMS() }},
}

// TestStrangerCannotSpendVoterQuota: 50 requests with marie's NUMIC and
// data that are not hers (25 one after the other, 25 at once), from one
// source or from 50, are answered like any other and spend the source's
// or the overall limit, not marie's: her own request, from the same
// source, then goes out.
func TestStrangerCannotSpendVoterQuota(t *testing.T) {
	for _, k := range renewalKinds {
		for _, tc := range []struct {
			name     string
			sources  int
			edit     func(*service.Config)
			limit    string
			unlimted int // how many of the 50 the limit lets through
		}{
			{"one source", 1, func(*service.Config) {}, "source", service.DefaultConfig().SourceRequests},
			{"50 sources", 50, func(c *service.Config) { c.UnmatchedRequests = 7 }, "overall", 7},
		} {
			t.Run(k.kind+"/"+tc.name, func(t *testing.T) {
				e := newEnvCfg(t, tc.edit)
				from := func(i int) context.Context {
					return portal.WithClient(e.ctx, fmt.Sprintf("198.51.100.%d", i%tc.sources))
				}
				var wg sync.WaitGroup
				for i := range 50 {
					run := func() {
						if err := k.stranger(e, from(i), i); err != nil {
							t.Errorf("stranger's request %d: %v, want the neutral answer", i, err)
						}
					}
					if i < 25 {
						run()
					} else {
						wg.Go(run)
					}
				}
				wg.Wait()
				limited := e.count("audit", "action = ? AND detail LIKE ?", k.kind+".request.rate_limited", `%"limit":"`+tc.limit+`"%`)
				if limited != 50-tc.unlimted {
					t.Errorf("%d of 50 strangers' requests limited per %s, want %d", limited, tc.limit, 50-tc.unlimted)
				}
				if err := k.voter(e, from(0), 0); err != nil {
					t.Fatal(err)
				}
				k.served(e)
				if n := e.count("audit", "action = ? AND detail LIKE ?", k.kind+".request.rate_limited", `%"limit":"numic"%`); n != 0 {
					t.Errorf("%d requests limited on marie's NUMIC", n)
				}
				if _, n := e.refusalMail(k.kind); n != 0 {
					t.Errorf("%d refusal e-mails to marie: the strangers' requests were not hers", n)
				}
			})
		}
	}
}
