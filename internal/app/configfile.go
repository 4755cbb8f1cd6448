package app

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/org/tap-deploy/internal/inputs"
	"github.com/org/tap-deploy/internal/problems"
	"github.com/org/tap-deploy/stack"
)

// readConfig reads the environment's configuration: the file in the
// workspace (config-file, or Pulumi.<stack>.yaml when it exists) with the
// config input's overrides over it. Every command reads it the same way, so
// a preview, the deploy after it, a rollback and a drift check ask for one
// configuration, the one the repository holds. env is where the run
// happens; warn is the run's log.
func readConfig(in inputs.Inputs, env inputs.Env, warn func(format string, args ...any)) (stack.Layered, problems.List) {
	found := stack.CheckOverrides(in.Config, env.Spell(inputs.NameConfig))
	name, named := in.ConfigFile, in.ConfigFile != ""
	if !named {
		name = stack.ConfigFileName(in.StackName)
	}
	path := name
	if !filepath.IsAbs(path) {
		path = filepath.Join(env.WorkDir, name)
	}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && named:
		return stack.Layered{}, append(found, fmt.Sprintf("%s: %s does not exist in the workspace (%s); check the repository out first (actions/checkout) and name the file relative to its root", env.Spell(inputs.NameConfigFile), name, env.WorkDir))
	case errors.Is(err, fs.ErrNotExist):
		if env.InActions && !exists(filepath.Join(env.WorkDir, ".git")) {
			warn("the workspace %s holds no checkout, so no %s was read: the stack gets the keys' defaults and the config input. Add actions/checkout before tap-deploy if the repository keeps the configuration", env.WorkDir, name)
		}
		return stack.Layer(stack.FileConfig{}, in.Config), found
	case err != nil:
		return stack.Layered{}, append(found, fmt.Sprintf("%s: reading %s: %v", env.Spell(inputs.NameConfigFile), name, err))
	}
	fc, bad := stack.ParseConfigFile(name, data)
	found = append(append(found, bad...), stack.CheckFile(fc)...)
	return stack.Layer(fc, in.Config), found
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
