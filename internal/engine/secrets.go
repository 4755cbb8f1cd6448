package engine

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
)

// keepSecretsProvider gives an existing stack of a self-managed backend
// its cloud secrets provider (awskms://) back. Such a backend keeps the
// provider's URL and the data key it wrapped in the stack's settings file
// (Pulumi.<stack>.yaml), which `stack init` writes into the workspace; the
// action's workspace is new on every run, so without this every run after
// the first falls back to the passphrase provider and fails (no
// PULUMI_CONFIG_PASSPHRASE) or re-encrypts the state with a passphrase.
// The checkpoint holds the same two values (secrets_providers), so they
// are read from there. The state's URL wins over the input's: its key
// wrapped the data key.
func keepSecretsProvider(ctx context.Context, st auto.Stack, stackName string) error {
	ws := st.Workspace()
	settings, err := ws.StackSettings(ctx, stackName)
	if err != nil {
		return fmt.Errorf("reading the stack settings: %w", trimAutoError(err))
	}
	if settings.EncryptedKey != "" {
		return nil // created by this run: stack init wrote them
	}
	dep, err := st.Export(ctx)
	if err != nil {
		return fmt.Errorf("reading the stack's secrets provider: %w", trimAutoError(err))
	}
	var d struct {
		SecretsProviders struct {
			Type  string `json:"type"`
			State struct {
				URL          string `json:"url"`
				EncryptedKey string `json:"encryptedkey"`
			} `json:"state"`
		} `json:"secrets_providers"`
	}
	if len(dep.Deployment) == 0 || json.Unmarshal(dep.Deployment, &d) != nil {
		return nil // nothing deployed yet: nothing is encrypted
	}
	sp := d.SecretsProviders
	if sp.Type != "cloud" || sp.State.EncryptedKey == "" {
		return nil
	}
	settings.SecretsProvider = sp.State.URL
	settings.EncryptedKey = sp.State.EncryptedKey
	if err := ws.SaveStackSettings(ctx, stackName, settings); err != nil {
		return fmt.Errorf("writing the stack's secrets provider into the workspace: %w", trimAutoError(err))
	}
	return nil
}
