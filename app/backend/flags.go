package backend

import (
	"errors"
	"flag"
	"fmt"
	"strconv"
	"time"

	"consulvote/app/mail"
	"consulvote/app/portal"
)

// The bounds of the desk's settings: a second agent needs time to
// approve, and a proposal nobody approves must not wait for weeks; one
// agent's renewals stay few enough that a misused session cannot reset
// the roll.
const (
	MinChangeLifetime = time.Hour
	MaxChangeLifetime = 30 * 24 * time.Hour
	MaxDeskRenewals   = 1000
)

func checkApproval(v string) error {
	if r := portal.Role(v); r != portal.RoleAdmin && r != portal.RoleAgent {
		return errors.New("admin (an administrator approves) or agent (any other agent)")
	}
	return nil
}

func checkChangeLifetime(d time.Duration) error {
	if d < MinChangeLifetime || d > MaxChangeLifetime {
		return errors.New("from 1h (time for a second agent to approve) to 720h (30 days)")
	}
	return nil
}

func checkDeskRenewals(n int) error {
	if n < 1 || n > MaxDeskRenewals {
		return fmt.Errorf("from 1 to %d renewals per agent and hour", MaxDeskRenewals)
	}
	return nil
}

// DeskFlags declares the help desk's rules on fs, into c: --contact-approval,
// --change-lifetime and --desk-renewals. Each value is checked as it is
// read (a 0 is refused, never taken for the default).
func (c *Config) DeskFlags(fs *flag.FlagSet) {
	fs.Func("contact-approval", "who approves a change of a voter's e-mail or mobile proposed by another agent: `admin`, or agent (any other agent) (default admin)",
		func(v string) error {
			if err := checkApproval(v); err != nil {
				return err
			}
			c.ContactApproval = v
			return nil
		})
	fs.Func("change-lifetime", "how long such a proposal waits for its approval, a `duration` from 1h to 720h (default 48h)",
		func(v string) error {
			d, err := time.ParseDuration(v)
			if err != nil {
				return errors.New("not a duration: e.g. 48h or 90m")
			}
			if err := checkChangeLifetime(d); err != nil {
				return err
			}
			c.ChangeLifetime = d
			return nil
		})
	fs.Func("desk-renewals", fmt.Sprintf("how many renewals one agent may start for voters in an hour, a `number` from 1 to %d (default 60)", MaxDeskRenewals),
		func(v string) error {
			n, err := strconv.Atoi(v)
			if err != nil {
				return errors.New("not a whole number")
			}
			if err := checkDeskRenewals(n); err != nil {
				return err
			}
			c.DeskRenewals = n
			return nil
		})
}

// MailFlags declares, for each language of the messages, the label before
// every e-mail's subject and the signature under it: --mail-label-fr,
// --mail-label-en, --mail-signature-fr, --mail-signature-en.
func (c *Config) MailFlags(fs *flag.FlagSet) {
	for _, lang := range mail.Languages {
		label, signature := mail.Letterhead{}.Words(lang)
		fs.Func("mail-label-"+lang, fmt.Sprintf("the `label` before the subject of every e-mail in %q, one line, at most %d characters (default %q)", lang, mail.MaxLabel, label),
			func(v string) error {
				if err := mail.CheckLabel(v); err != nil {
					return err
				}
				c.MailLabel = with(c.MailLabel, lang, v)
				return nil
			})
		fs.Func("mail-signature-"+lang, fmt.Sprintf("the `signature` of every e-mail in %q, one line, at most %d characters (default %q)", lang, mail.MaxSignature, signature),
			func(v string) error {
				if err := mail.CheckSignature(v); err != nil {
					return err
				}
				c.MailSignature = with(c.MailSignature, lang, v)
				return nil
			})
	}
}

// with returns m with k set to v, m made if nil.
func with(m map[string]string, k, v string) map[string]string {
	if m == nil {
		m = map[string]string{}
	}
	m[k] = v
	return m
}
