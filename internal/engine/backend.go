package engine

import "context"

// Backend is this package's readers of a backend, and its check of the
// tools a stack needs, as one value: what a run takes to look before the
// engine runs (app.Backend).
type Backend struct{}

// FindTools is FindTools.
func (Backend) FindTools(pulumiHome string) error { return FindTools(pulumiHome) }

// StackExists is StackExists.
func (Backend) StackExists(ctx context.Context, s Settings) (bool, error) { return StackExists(ctx, s) }

// LayoutWritten is LayoutWritten.
func (Backend) LayoutWritten(ctx context.Context, s Settings) (bool, error) {
	return LayoutWritten(ctx, s)
}

// Locks is Locks.
func (Backend) Locks(ctx context.Context, s Settings) ([]string, error) { return Locks(ctx, s) }

// ListStacks is ListStacks.
func (Backend) ListStacks(ctx context.Context, s Settings) ([]StackSummary, error) {
	return ListStacks(ctx, s)
}
