package bootstrap

import (
	"path"
	"slices"
)

// The state bucket's ARN in the template: the bucket resource's name.
const stateBucketARN = "arn:aws:s3:::${StateBucket}"

// stateKeys are the objects of one stack under an S3 backend's prefix, as
// Pulumi's DIY backend lays them out in project mode
// (pkg/backend/diy: store.go, lock.go, meta.go, stack_tags.go):
//
//	.pulumi/meta.yaml                               the layout version, written by the backend's first login
//	.pulumi/stacks/<project>/<stack>.json[.gz|.bak]  the checkpoint, its backup, the stack's tags
//	.pulumi/history/<project>/<stack>/…              one history entry and checkpoint per update
//	.pulumi/backups/<project>/<stack>/…              checkpoint backups
//	.pulumi/locks/organization/<project>/<stack>/…   the update lock
//
// tap-deploy also asks whether the stack exists by HeadObject on the
// legacy layout's .pulumi/stacks/<stack>.json (internal/engine).
func stateKeys(prefix, project, stackName string, write bool) []string {
	at := func(p string) string { return stateBucketARN + "/" + path.Join(prefix, ".pulumi", p) }
	keys := []string{
		at("meta.yaml"),
		at("stacks/"+project+"/"+stackName) + ".*",
		at("history/"+project+"/"+stackName) + "/*",
		at("locks/organization/"+project+"/"+stackName) + "/*",
	}
	if write {
		return append(keys, at("backups/"+project+"/"+stackName)+"/*")
	}
	return append(keys, at("stacks/"+stackName)+".*")
}

// listState lets a role list the keys under prefix: Pulumi lists a stack's
// locks and history, and S3 answers a HeadObject for a missing key with
// 404, not 403, only to a caller that may list it (S3 checks s3:ListBucket
// with the key as s3:prefix).
func listState(prefix string) grant {
	return grant{sid: "StateList", actions: []string{"s3:ListBucket"}, resources: []string{stateBucketARN},
		conds: []condition{{"StringLike", "s3:prefix", []string{prefix + "/*"}}},
		why:   "the state bucket, listed under " + prefix + "/ only"}
}

// readState is what a preview or drift check of an environment's stack
// reads of the state.
func readState(prefix, project, env string) []grant {
	return []grant{
		listState(prefix),
		{sid: "StateRead", actions: []string{"s3:GetObject"}, resources: stateKeys(prefix, project, env, false),
			why: "the environment's checkpoint, history and lock, and nothing of the other environments"},
	}
}

// writeState is what an update, a rollback and the history of an
// environment's stack read and write of the state: its checkpoint,
// history, backups and lock, and nothing of the other environments. A
// promotion (promote-from) reads the stack it comes from, so a deploy
// reads every environment's state, as a preview does.
//
// No environment's role writes the backend's .pulumi/meta.yaml: it says
// how every environment's stack is found (the layout version), so one
// environment's role could make another's stack vanish. The backend's
// first login writes it, once, with the administrator's credentials
// (header); a deploy that finds none says so (internal/app).
func writeState(prefix, project, env string) []grant {
	meta := stateBucketARN + "/" + path.Join(prefix, ".pulumi", "meta.yaml")
	writes := slices.DeleteFunc(dedupe(stateKeys(prefix, project, env, false), stateKeys(prefix, project, env, true)),
		func(k string) bool { return k == meta })
	return []grant{
		listState(prefix),
		{sid: "StateReadWrite", actions: []string{"s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"},
			resources: writes,
			why:       "the environment's checkpoint, history, backups and lock, and nothing of the other environments or of the layout (meta.yaml)"},
		{sid: "StateRead", actions: []string{"s3:GetObject"}, resources: []string{stateBucketARN + "/" + prefix + "/*"},
			why: "the project's state, read: a promotion reads the history of the stack it comes from"},
	}
}

// readAllState is the preview role's: every environment's state of the
// project, read only.
func readAllState(prefix string) []grant {
	return []grant{
		listState(prefix),
		{sid: "StateRead", actions: []string{"s3:GetObject"}, resources: []string{stateBucketARN + "/" + prefix + "/*"},
			why: "the project's state, read only: a preview of a new stack writes nothing"},
	}
}

// reviewState is the review role's: its own backend under
// <prefix>/review (inputs.ReviewPath), where review stacks are created,
// updated, listed by the sweep and removed.
func reviewState(reviewPrefix string) []grant {
	return []grant{
		listState(reviewPrefix),
		{sid: "StateReadWrite", actions: []string{"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"},
			resources: []string{stateBucketARN + "/" + reviewPrefix + "/*"},
			why:       "review stacks' own backend, never the environments' state"},
	}
}

// withState puts the state grants first.
func withState(state []grant, rest []*grant) []*grant {
	out := make([]*grant, 0, len(state)+len(rest))
	for i := range state {
		out = append(out, &state[i])
	}
	return append(out, rest...)
}
