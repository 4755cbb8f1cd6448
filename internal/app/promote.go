package app

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/org/tap-deploy/internal/engine"
	"github.com/org/tap-deploy/internal/shift"
	"github.com/org/tap-deploy/stack"
)

// promotedFrom is what a promotion's source stack showed when it was
// checked: the update this deploy repeats.
type promotedFrom struct {
	stack   string
	version int
	// source is where it was read, with the credentials that read it.
	source stackRef
}

// String is how the update records it ("staging@14").
func (p promotedFrom) String() string { return fmt.Sprintf("%s@%d", p.stack, p.version) }

// describe is how reports say it.
func (p promotedFrom) describe() string {
	return fmt.Sprintf("promoted from %s, update %d", p.stack, p.version)
}

// promotionSource is what a deploy reads of the stack it promotes from.
type promotionSource struct {
	stack string
	// latest is the stack's newest update (a refresh is not one); nil when
	// it has none.
	latest *engine.Update
	// pending counts the operations an update in progress, or one that was
	// interrupted, left in the state.
	pending int
	// traffic is where each function's live alias stands against the
	// version the update published, and the shift still running, if any.
	traffic []functionTraffic
	// unread says why the traffic could not be read ("" when it was).
	unread string
}

type functionTraffic struct {
	shift.Function
	running string
}

// promotionProblems says why a deploy of commit sha by tap-deploy version,
// shipping code, may not be promoted from src; none means it repeats
// exactly what src runs: the same commit, the same action, the same
// Lambda packages (a rollback of src runs the packages of the release
// that made the update it restored, whatever release rolled back), its
// traffic fully shifted.
func promotionProblems(src promotionSource, sha, version string, code stack.Packages) []string {
	if src.latest == nil {
		return []string{fmt.Sprintf("stack %s has no update yet: deploy it first", src.stack)}
	}
	u := *src.latest
	prov := stack.ProvenanceOf(u.Config)
	var out []string
	if !u.Succeeded() {
		out = append(out, fmt.Sprintf("the latest update of %s (version %d) %s: promote only what succeeded there", src.stack, u.Version, cmp.Or(u.Result, "did not finish")))
	}
	if src.pending > 0 {
		out = append(out, fmt.Sprintf("an update of %s is in progress or was interrupted (%d unfinished operation(s) in its state)", src.stack, src.pending))
	}
	switch {
	case prov.Commit == "":
		out = append(out, fmt.Sprintf("the latest update of %s (version %d) recorded no commit", src.stack, u.Version))
	case prov.Commit != sha:
		out = append(out, fmt.Sprintf("a different commit: %s runs %s (version %d), this deploy is of %s", src.stack, short(prov.Commit), u.Version, cmp.Or(short(sha), "no commit")))
	}
	if prov.ActionVersion != version {
		out = append(out, fmt.Sprintf("a different tap-deploy: %s was deployed by %s (version %d), this is %s (the program and the Lambda packages travel in the action)",
			src.stack, cmp.Or(prov.ActionVersion, "an unrecorded version"), u.Version, version))
	}
	out = append(out, packageProblems(src.stack, u, code)...)
	if src.unread != "" {
		out = append(out, fmt.Sprintf("the traffic of %s could not be checked: %s", src.stack, src.unread))
	}
	for _, f := range src.traffic {
		switch {
		case f.running != "":
			out = append(out, fmt.Sprintf("%s: a traffic shift is still running in %s (CodeDeploy deployment %s)", f.Name, src.stack, f.running))
		case f.Pending():
			out = append(out, fmt.Sprintf("%s: %s serves version %s, not version %s of its latest update: the traffic shift did not complete", f.Name, src.stack, f.Current, f.Target))
		}
	}
	return out
}

// packageProblems compares the packages the source's latest update
// recorded with the ones this deploy ships.
func packageProblems(name string, u engine.Update, code stack.Packages) []string {
	raw, ok := u.Config[stack.PackagesKey]
	var ran map[string]string
	if !ok || json.Unmarshal([]byte(raw), &ran) != nil {
		return []string{fmt.Sprintf("the latest update of %s (version %d) recorded no package digests: what code it runs cannot be told", name, u.Version)}
	}
	var out []string
	for _, f := range stack.Functions {
		if ran[f.Key] != code[f.Key].SHA256 {
			out = append(out, fmt.Sprintf("%s: %s runs package sha256:%s (version %d), this deploy ships sha256:%s: promote with the release that built it, or deploy %s with this one first",
				f.Component, name, shortDigest(ran[f.Key]), u.Version, shortDigest(code[f.Key].SHA256), name))
		}
	}
	return out
}

func shortDigest(d string) string {
	if d == "" {
		return "(none)"
	}
	return d[:min(12, len(d))]
}

// checkPromotion reads the stack this deploy promotes from (promote-from),
// in the same backend, or in its own account's with its own role
// (sourceaccount.go), without writing to it, and refuses the deploy,
// changing nothing, unless it repeats that stack's latest update. It
// returns that update, and where the source was read.
func (r *run) checkPromotion(ctx context.Context) (*promotedFrom, error) {
	name := r.in.PromoteFrom
	if name == "" {
		return nil, nil
	}
	refused := fmt.Sprintf("Refusing to promote from %s; nothing was changed", name)
	ref, err := r.sourceStack(ctx, nil)
	if err != nil {
		return nil, r.fail(refused, err)
	}
	src, err := r.readPromotionSource(ctx, ref)
	if err != nil {
		return nil, r.fail(refused, err)
	}
	code, err := r.packages.get(packagesToDeploy)
	if err != nil {
		return nil, r.fail(refused, err)
	}
	if problems := promotionProblems(src, r.decision.SHA, r.Version, code); len(problems) > 0 {
		for _, p := range problems {
			r.Runtime.Errorf("%s", p)
		}
		return nil, r.fail(refused, fmt.Errorf("this deploy must repeat the latest update of %s: %s", name, strings.Join(problems, "; ")))
	}
	from := &promotedFrom{stack: name, version: src.latest.Version, source: ref}
	r.Runtime.Noticef("%s: the same commit %s, tap-deploy %s and Lambda packages, its traffic fully shifted", from.describe(), short(r.decision.SHA), r.Version)
	return from, nil
}

// errSourceChanged is a promotion whose source changed after it was
// checked.
var errSourceChanged = errors.New("the promotion's source changed after it was checked")

// errSourceUnread is a promotion whose source could not be read again
// under the lock (its role, its token or its backend failing): whether it
// changed is not known, which stops the deploy as a change would.
var errSourceUnread = errors.New("the promotion's source could not be read again under the lock")

// recheckPromotion checks the source again, with the same rules, right
// before the engine changes the target (under the target's lock: the wait
// for it can take lock-timeout, and a rollback of the source meanwhile
// must not let the target deploy what the source no longer runs).
func (r *run) recheckPromotion(from promotedFrom) func(context.Context) error {
	return func(ctx context.Context) error {
		// The same place, the same role: credentials that may expire
		// before the read ends are taken again.
		ref, err := r.sourceStack(ctx, &from.source)
		if err != nil {
			return fmt.Errorf("%w: %v", errSourceUnread, err)
		}
		src, err := r.readPromotionSource(ctx, ref)
		if err != nil {
			return fmt.Errorf("%w: %v", errSourceUnread, err)
		}
		code, err := r.packages.get(packagesToDeploy)
		if err != nil {
			return fmt.Errorf("%w: %v", errSourceChanged, err)
		}
		problems := promotionProblems(src, r.decision.SHA, r.Version, code)
		if src.latest != nil && src.latest.Version != from.version {
			problems = append([]string{fmt.Sprintf("its latest update is now version %d, not the checked version %d", src.latest.Version, from.version)}, problems...)
		}
		if len(problems) > 0 {
			return fmt.Errorf("%w: checked again under the lock of %s, right before the update, %s: %s. Promote again once it runs what this deploy repeats",
				errSourceChanged, r.in.StackName, from.stack, strings.Join(problems, "; "))
		}
		r.Runtime.Infof("%s still holds under the lock of %s", from.describe(), r.in.StackName)
		return nil
	}
}

// readPromotionSource reads the source stack's history, state and, where
// its functions take traffic through CodeDeploy, where their aliases stand.
func (r *run) readPromotionSource(ctx context.Context, ref stackRef) (promotionSource, error) {
	name := ref.name
	src := promotionSource{stack: name}
	code, err := r.packages.get(packagesForGraph)
	if err != nil {
		return src, err
	}
	st, err := r.openNamed(ctx, ref, mustExist, r.cfg, code, stack.Provenance{})
	switch {
	case errors.Is(err, engine.ErrNoStack):
		return src, fmt.Errorf("stack %s does not exist in %s: deploy it there before promoting from it", name, ref.sourceBackend())
	case err != nil:
		return src, fmt.Errorf("opening stack %s in %s: %w", name, ref.sourceBackend(), err)
	}
	defer st.Close()
	hist, err := st.History(ctx)
	if err != nil {
		return src, fmt.Errorf("reading the history of %s: %w", name, err)
	}
	for i := range hist {
		if hist[i].Kind == "update" {
			src.latest = &hist[i]
			break
		}
	}
	state, err := st.State(ctx)
	if err != nil {
		return src, fmt.Errorf("reading the state of %s: %w", name, err)
	}
	src.pending = len(state.Pending)
	if src.latest == nil || !src.latest.Succeeded() {
		return src, nil
	}
	released, err := stack.TrafficTargets(state.Outputs)
	if err != nil {
		src.unread = err.Error()
		return src, nil
	}
	t, err := r.sourceTraffic(ctx, ref, released.Region)
	if err != nil {
		src.unread = err.Error()
		return src, nil
	}
	for _, f := range released.Functions {
		ft := functionTraffic{Function: f}
		alias, err := t.Alias(ctx, f.Name, f.Alias)
		if err != nil {
			src.unread = err.Error()
			return src, nil
		}
		ft.Current = alias.Version
		running, err := t.Active(ctx, released.Application, f.DeploymentGroup)
		if err != nil {
			src.unread = err.Error()
			return src, nil
		}
		if len(running) > 0 {
			ft.running = running[0].ID
		}
		src.traffic = append(src.traffic, ft)
	}
	return src, nil
}
