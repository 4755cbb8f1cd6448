package engine

import (
	"context"
	"fmt"
	"slices"

	"github.com/pulumi/pulumi/sdk/v3/go/auto/opthistory"
)

// Update is one entry of the stack history.
type Update struct {
	// Version numbers updates from 1, oldest first. diy backends (file://,
	// s3://) report 0 for every entry; they are numbered here as Pulumi
	// Cloud numbers them.
	Version int
	Kind    string
	Result  string
	Message string
	// Config holds the configuration values the update ran with (secret
	// values stay encrypted and are left out).
	Config map[string]string
	// Secret names the keys whose values were secrets: a report can say
	// that they are there without showing them.
	Secret    []string
	StartTime string
}

// Succeeded reports whether the update was a successful `up`.
func (u Update) Succeeded() bool { return u.Kind == "update" && u.Result == "succeeded" }

// History returns every update, newest first. It never asks for secret
// values (the SDK's default is --show-secrets): they are left out of
// Config anyway, and without them a reader needs neither the stack's
// passphrase nor kms:Decrypt on its key (a promotion's source read from
// another account).
func (s *Stack) History(ctx context.Context) ([]Update, error) {
	entries, err := s.stack.History(ctx, 0, 0, opthistory.ShowSecrets(false))
	if err != nil {
		return nil, fmt.Errorf("reading the stack history: %w", trimAutoError(err))
	}
	out := make([]Update, len(entries))
	numbered := false
	for _, e := range entries {
		if e.Version != 0 {
			numbered = true
		}
	}
	for i, e := range entries {
		u := Update{Version: e.Version, Kind: e.Kind, Result: e.Result, Message: e.Message, StartTime: e.StartTime, Config: map[string]string{}}
		if !numbered {
			u.Version = len(entries) - i
		}
		for k, v := range e.Config {
			if v.Secret {
				u.Secret = append(u.Secret, k)
				continue
			}
			u.Config[k] = v.Value
		}
		slices.Sort(u.Secret)
		out[i] = u
	}
	return out, nil
}
