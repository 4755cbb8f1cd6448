package packaging_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/internal/engine"
)

// pendingPages are docs pages that other work of issue 33 adds (the
// configuration file, teardown, upgrading): links to them may dangle until
// that work lands. An entry whose page exists fails, so that it is removed.
var pendingPages = map[string]bool{}

// markdownFiles are the repository's markdown files, as paths relative to
// the root, outside node_modules and testdata (rendered output, not docs).
func markdownFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	require.NoError(t, filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".") && path != root && d.Name() != ".github") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, ".md") {
			rel, _ := filepath.Rel(root, path)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	}))
	require.NotEmpty(t, files)
	return files
}

var (
	fence      = regexp.MustCompile("(?ms)^\\s*```.*?^\\s*```")
	codeSpan   = regexp.MustCompile("`[^`\n]*`")
	mdLink     = regexp.MustCompile(`\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)
	headingRe  = regexp.MustCompile(`(?m)^#{1,6}\s+(.+?)\s*#*\s*$`)
	inlineLink = regexp.MustCompile(`\[([^\]]*)\]\([^)]*\)`)
)

// prose is a markdown text without its code blocks and code spans, where
// nothing is a link.
func prose(text string) string {
	return codeSpan.ReplaceAllString(fence.ReplaceAllString(text, ""), "")
}

// anchors are the ids GitHub gives a markdown file's headings: the
// rendered text lowercased, every character but letters, digits, spaces,
// '-' and '_' dropped, spaces turned into '-', and a repeated id suffixed
// -1, -2, ….
func anchors(text string) map[string]bool {
	ids := map[string]bool{}
	seen := map[string]int{}
	for _, m := range headingRe.FindAllStringSubmatch(fence.ReplaceAllString(text, ""), -1) {
		h := inlineLink.ReplaceAllString(m[1], "$1")
		var b strings.Builder
		for _, r := range strings.ToLower(h) {
			switch {
			case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
				b.WriteRune(r)
			case r == ' ':
				b.WriteRune('-')
			}
		}
		id := b.String()
		if n := seen[id]; n > 0 {
			ids[id+"-"+strconv.Itoa(n)] = true
		} else {
			ids[id] = true
		}
		seen[id]++
	}
	return ids
}

func TestAnchors_FollowGitHubsSlugs(t *testing.T) {
	got := anchors("# Merge queues: the plan that lands\n## `review-stack` and *sweep*\n## FAQ\n## FAQ\n```\n# not a heading\n```\n## [Inputs](x.md) (v1.2)\n")
	assert.Equal(t, map[string]bool{"merge-queues-the-plan-that-lands": true, "review-stack-and-sweep": true,
		"faq": true, "faq-1": true, "inputs-v12": true}, got)
}

func TestDocs_EveryLinkNamesAFileAndAnchorThatExist(t *testing.T) {
	for page := range pendingPages {
		assert.NoFileExists(t, filepath.Join(root, page), "%s exists now: remove it from pendingPages", page)
	}
	for _, file := range markdownFiles(t) {
		text := string(read(t, file))
		for _, m := range mdLink.FindAllStringSubmatch(prose(text), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			path, anchor, _ := strings.Cut(target, "#")
			rel := file
			if path != "" {
				rel = filepath.ToSlash(filepath.Clean(filepath.Join(filepath.Dir(file), path)))
				if pendingPages[rel] {
					continue
				}
				if _, err := os.Stat(filepath.Join(root, rel)); err != nil {
					t.Errorf("%s links to %s, which does not exist", file, target)
					continue
				}
			}
			if anchor == "" || !strings.HasSuffix(rel, ".md") {
				continue
			}
			if !anchors(string(read(t, rel)))[anchor] {
				t.Errorf("%s links to %s: %s has no heading #%s", file, target, rel, anchor)
			}
		}
	}
}

// userFacingErrors are the titles of every failure a run reports: the
// title given to (*run).fail or failBeforeEngine in internal/app, as a
// string literal, the format of fmt.Sprintf, the literal start of a
// concatenation, or a local variable assigned one of those in the same
// function. CONTRIBUTING.md states the rule.
func userFacingErrors(t *testing.T) []string {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob(filepath.Join(root, "internal/app/*.go"))
	require.NoError(t, err)
	var titles []string
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		require.NoError(t, err)
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			assigned := map[string][]ast.Expr{}
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				if as, ok := n.(*ast.AssignStmt); ok && len(as.Lhs) == len(as.Rhs) {
					for i, l := range as.Lhs {
						if id, ok := l.(*ast.Ident); ok {
							assigned[id.Name] = append(assigned[id.Name], as.Rhs[i])
						}
					}
				}
				return true
			})
			var resolve func(e ast.Expr) []string
			resolve = func(e ast.Expr) []string {
				switch e := e.(type) {
				case *ast.BasicLit:
					if s, err := strconv.Unquote(e.Value); err == nil {
						return []string{s}
					}
				case *ast.BinaryExpr:
					return resolve(e.X)
				case *ast.CallExpr:
					if sel, ok := e.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Sprintf" && len(e.Args) > 0 {
						return resolve(e.Args[0])
					}
				case *ast.Ident:
					var out []string
					for _, rhs := range assigned[e.Name] {
						out = append(out, resolve(rhs)...)
					}
					return out
				}
				return nil
			}
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				sel, ok := call.Fun.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				arg := -1
				switch sel.Sel.Name {
				case "fail":
					arg = 0
				case "failBeforeEngine":
					arg = 1
				}
				if arg < 0 || len(call.Args) <= arg {
					return true
				}
				titles = append(titles, resolve(call.Args[arg])...)
				return true
			})
		}
	}
	require.Greater(t, len(titles), 30, "the titles are found")
	return titles
}

var verb = regexp.MustCompile(`%[-+# 0-9.]*[a-zA-Z]`)

func TestTroubleshooting_HasARowForEveryErrorTheRunReports(t *testing.T) {
	doc := string(read(t, "docs/troubleshooting.md"))
	rows := table(t, doc, "## Errors")
	var cells []string
	for first, rest := range rows {
		require.Len(t, rest, 2, "row %q: error | cause | fix", first)
		cells = append(cells, first)
	}
	for _, title := range userFacingErrors(t) {
		parts := verb.Split(title, -1)
		for i := range parts {
			parts[i] = regexp.QuoteMeta(parts[i])
		}
		pattern := regexp.MustCompile(strings.Join(parts, ".+?"))
		found := false
		for _, c := range cells {
			if pattern.MatchString(c) {
				found = true
				break
			}
		}
		assert.True(t, found, "docs/troubleshooting.md's Errors table has no row for %q", title)
	}
	for _, err := range []error{engine.ErrNoCLI, engine.ErrNoAWSPlugin} {
		assert.True(t, strings.Contains(doc, strings.Split(err.Error(), ":")[0]), "docs/troubleshooting.md names %q", err)
	}
}
