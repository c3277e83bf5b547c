package service

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"consulvote/app/mail"
	"consulvote/app/portal"
)

// CampaignBatch is how many voters one transaction of a campaign serves.
const CampaignBatch = 100

type firstCreds struct {
	v                    Voter
	identifier, password string
	passwordHash         string
}

// SendFirstCredentials gives every voter who has none an identifier and a
// password: the identifier by e-mail with the NUMIC recalled, the password
// by SMS, both queued in the transaction that stores their hashes. A
// voter is served at most once per campaign, so a campaign stopped
// (cancelled, crashed) is resumed by running it again. Voters without a
// valid mobile number are skipped and audited.
func (s *Operator) SendFirstCredentials(ctx context.Context, actor, campaign string, progress func(portal.CampaignReport)) (portal.CampaignReport, error) {
	return s.sendFirstCredentials(ctx, actor, campaign, progress)
}

// sendFirstCredentials is SendFirstCredentials, for the operator and the
// admin's SendFirstCredentialsAs.
func (s *core) sendFirstCredentials(ctx context.Context, actor, campaign string, progress func(portal.CampaignReport)) (portal.CampaignReport, error) {
	start := time.Now()
	var rep portal.CampaignReport
	campaign = strings.TrimSpace(campaign)
	if campaign == "" || len(campaign) > 64 {
		return rep, fmt.Errorf("campaign name: 1 to 64 characters")
	}
	for {
		if ctx.Err() != nil {
			rep.Cancelled = true
			break
		}
		sent, skipped, done, err := s.campaignBatch(ctx, actor, campaign)
		if err != nil {
			return rep, err
		}
		if done {
			break
		}
		rep.Sent += sent
		rep.Skipped += skipped
		rep.Elapsed = time.Since(start)
		if progress != nil {
			progress(rep)
		}
	}
	rep.Elapsed = time.Since(start)
	return rep, nil
}

// campaignBatch serves the next CampaignBatch voters without credentials
// in one transaction; done when none was left.
func (s *core) campaignBatch(ctx context.Context, actor, campaign string) (sent, skipped int, done bool, err error) {
	var vs []Voter
	if err := s.store.View(ctx, func(tx Tx) (err error) {
		vs, err = tx.VotersWithoutCredentials(campaign, CampaignBatch)
		return err
	}); err != nil {
		return 0, 0, false, fmt.Errorf("campaign: %w", err)
	}
	if len(vs) == 0 {
		return 0, 0, true, nil
	}
	creds, err := s.drawCredentials(ctx, vs)
	if err != nil {
		return 0, 0, false, err
	}
	now := s.clock.Now()
	err = s.store.Update(ctx, func(tx Tx) error {
		sent, skipped = 0, 0
		// Audited after the batch's writes.
		var skips []AuditEntry
		for _, c := range creds {
			v := c.v
			if !portal.ValidMobile(v.Mobile) {
				// Recorded in the campaign so that the next batch moves on.
				if _, err := tx.SetFirstCredentials(campaign, v.ID, nil, "", now); err != nil {
					return err
				}
				skipped++
				skips = append(skips, AuditEntry{At: now, Actor: actor, Action: "credentials.skipped", VoterID: v.ID,
					Detail: "campaign " + campaign + ": no mobile number in E.164 form"})
				continue
			}
			ok, err := s.sendCredentials(tx, c, campaign, now)
			if err != nil {
				return err
			}
			if ok {
				sent++
			}
		}
		if err := s.auditAll(tx, skips...); err != nil {
			return err
		}
		return s.audit(tx, AuditEntry{At: now, Actor: actor, Action: "credentials.sent",
			Detail: facts("campaign", campaign, "sent", strconv.Itoa(sent),
				"first", strconv.FormatInt(vs[0].ID, 10), "last", strconv.FormatInt(vs[len(vs)-1].ID, 10))})
	})
	if err != nil {
		return 0, 0, false, fmt.Errorf("campaign: %w", err)
	}
	return sent, skipped, false, nil
}

// sendCredentials stores c's hashes in campaign and queues the e-mail of
// the identifier and the SMS of the password; false if the voter was
// served meanwhile.
func (s *core) sendCredentials(tx Tx, c firstCreds, campaign string, now time.Time) (bool, error) {
	v := c.v
	ok, err := tx.SetFirstCredentials(campaign, v.ID, s.mac("identifier", c.identifier), c.passwordHash, now)
	if err != nil || !ok {
		return false, err
	}
	msgID, err := s.messageID()
	if err != nil {
		return false, err
	}
	msg, err := s.cfg.Mail.FirstCredentials(mail.Envelope{To: v.Email, Lang: v.Lang, Date: now, MessageID: msgID}, c.identifier, v.NUMIC)
	if err != nil {
		return false, err
	}
	if err := s.enqueue(tx, v, "credentials.identifier", msg, now); err != nil {
		return false, err
	}
	return true, s.queue(tx, Message{VoterID: v.ID, Channel: ChannelSMS, Kind: "credentials.password",
		Recipient: v.Mobile, Body: []byte(mail.PasswordSMS(v.Lang, c.password)), CreatedAt: now})
}

// SendFirstCredentialsAs implements portal.RollAdmin.
func (s *Office) SendFirstCredentialsAs(ctx context.Context, token, campaign string, progress func(portal.CampaignReport)) (portal.CampaignReport, error) {
	a, err := s.agent(ctx, token, portal.RoleAdmin)
	if err == nil {
		err = central(a)
	}
	if err != nil {
		return portal.CampaignReport{}, err
	}
	return s.sendFirstCredentials(ctx, agentActor(a), campaign, progress)
}

// drawCredentials draws an identifier and a password for each voter and
// hashes the passwords on the service's hashing workers (every core by
// default): argon2id is the slow part, and logins share those workers.
func (s *core) drawCredentials(ctx context.Context, vs []Voter) ([]firstCreds, error) {
	out := make([]firstCreds, len(vs))
	for i, v := range vs {
		id, err := s.newCredential()
		if err != nil {
			return nil, err
		}
		pw, err := s.newCredential()
		if err != nil {
			return nil, err
		}
		out[i] = firstCreds{v: v, identifier: id, password: pw}
	}
	var wg sync.WaitGroup
	errs := make([]error, len(out))
	for i := range out {
		wg.Go(func() {
			if err := s.hashes.Wait(ctx, func() {
				out[i].passwordHash, errs[i] = hashPassword(out[i].password, s.cfg.Argon2, s.rand)
			}); err != nil {
				errs[i] = err
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
