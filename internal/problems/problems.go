// Package problems is how tap-deploy reports what is wrong with what a user
// gave it (inputs, configuration keys and values, resource names): every
// problem at once, so that one round of fixes is enough.
package problems

import (
	"errors"
	"fmt"
	"strings"
)

// List is every problem found, each a sentence naming what to change.
type List []string

func (l List) Error() string {
	if len(l) == 1 {
		return l[0]
	}
	return fmt.Sprintf("%d problems:\n  - %s", len(l), strings.Join(l, "\n  - "))
}

// Err is the list as an error, or nil when nothing is wrong.
func (l List) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// Of returns the problems an error reports: a List's entries, or else the
// error's own message as the one problem.
func Of(err error) []string {
	var l List
	if errors.As(err, &l) {
		return l
	}
	return []string{err.Error()}
}
