// helmrender renders a Helm chart's templates the way `helm template` does, for the tests:
// Helm is not packaged for Debian, but its template language is Go's text/template with the
// sprig functions (packaged) plus a few built-ins, which are implemented here: .Values
// (the chart's values.yaml with -f files merged over it), .Release, .Chart, .Files.Get,
// include, required, toYaml and fromYaml. The chart keeps to these, so this is faithful.
//
//	helmrender -chart DIR [-dep DIR]... [-f values.yaml]... [-name NAME] [-namespace NS] [-notes]
//
// -dep adds a dependency chart, as charts/<name> would: its named templates join the
// parent's, and its values.yaml becomes .Values.<name> under the parent's values.
// Prints the manifests as one YAML stream (or, with -notes, the rendered NOTES.txt).
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig"
	"gopkg.in/yaml.v2"
)

type valueFiles []string

func (v *valueFiles) String() string     { return strings.Join(*v, ",") }
func (v *valueFiles) Set(s string) error { *v = append(*v, s); return nil }

// normalize turns yaml.v2's map[interface{}]interface{} into map[string]interface{}, which
// is what sprig's dict functions and Helm's templates work with.
func normalize(v interface{}) interface{} {
	switch t := v.(type) {
	case map[interface{}]interface{}:
		m := map[string]interface{}{}
		for k, val := range t {
			m[fmt.Sprint(k)] = normalize(val)
		}
		return m
	case []interface{}:
		for i := range t {
			t[i] = normalize(t[i])
		}
	}
	return v
}

// merge copies src over dst, recursing into maps (Helm's coalescing of -f files).
func merge(dst, src map[string]interface{}) {
	for k, v := range src {
		if sm, ok := v.(map[string]interface{}); ok {
			if dm, ok := dst[k].(map[string]interface{}); ok {
				merge(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
}

func readYAML(path string) (map[string]interface{}, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var raw interface{}
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if raw == nil {
		return map[string]interface{}{}, nil
	}
	m, ok := normalize(raw).(map[string]interface{})
	if !ok {
		return nil, fmt.Errorf("%s: not a mapping", path)
	}
	return m, nil
}

func toYAML(v interface{}) string {
	data, err := yaml.Marshal(v)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(string(data), "\n")
}

func fromYAML(s string) map[string]interface{} {
	var raw interface{}
	if err := yaml.Unmarshal([]byte(s), &raw); err != nil {
		return map[string]interface{}{"Error": err.Error()}
	}
	m, _ := normalize(raw).(map[string]interface{})
	return m
}

type files struct{ dir string }

func (f files) Get(name string) string {
	data, err := os.ReadFile(filepath.Join(f.dir, name))
	if err != nil {
		return ""
	}
	return string(data)
}

func main() {
	chart := flag.String("chart", "", "the chart's directory")
	name := flag.String("name", "release", "the release name")
	namespace := flag.String("namespace", "default", "the release namespace")
	notes := flag.Bool("notes", false, "render NOTES.txt instead of the manifests")
	var extra, deps valueFiles
	flag.Var(&extra, "f", "a values file (repeatable; later ones win)")
	flag.Var(&deps, "dep", "a dependency chart's directory (repeatable)")
	flag.Parse()
	if err := run(*chart, *name, *namespace, *notes, extra, deps); err != nil {
		fmt.Fprintln(os.Stderr, "helmrender:", err)
		os.Exit(1)
	}
}

func run(chart, name, namespace string, notes bool, extra, deps []string) error {
	meta, err := readYAML(filepath.Join(chart, "Chart.yaml"))
	if err != nil {
		return err
	}
	values := map[string]interface{}{}
	for _, dep := range deps {
		depMeta, err := readYAML(filepath.Join(dep, "Chart.yaml"))
		if err != nil {
			return err
		}
		depValues, err := readYAML(filepath.Join(dep, "values.yaml"))
		if err != nil {
			return err
		}
		values[fmt.Sprint(depMeta["name"])] = depValues
	}
	own, err := readYAML(filepath.Join(chart, "values.yaml"))
	if err != nil {
		return err
	}
	merge(values, own)
	for _, f := range extra {
		over, err := readYAML(f)
		if err != nil {
			return err
		}
		merge(values, over)
	}
	root := map[string]interface{}{
		"Values": values,
		"Release": map[string]interface{}{
			"Name": name, "Namespace": namespace, "Service": "Helm", "IsInstall": true,
		},
		"Chart": map[string]interface{}{
			"Name": meta["name"], "Version": meta["version"], "AppVersion": meta["appVersion"],
		},
		"Files": files{dir: chart},
	}

	var tpl *template.Template
	funcs := sprig.TxtFuncMap()
	funcs["toYaml"] = toYAML
	funcs["fromYaml"] = fromYAML
	funcs["include"] = func(name string, data interface{}) (string, error) {
		var buf bytes.Buffer
		err := tpl.ExecuteTemplate(&buf, name, data)
		return buf.String(), err
	}
	funcs["required"] = func(msg string, v interface{}) (interface{}, error) {
		if v == nil || v == "" {
			return nil, fmt.Errorf("%s", msg)
		}
		return v, nil
	}
	tpl = template.New(filepath.Base(chart)).Funcs(funcs).Option("missingkey=zero")

	paths, err := filepath.Glob(filepath.Join(chart, "templates", "*"))
	if err != nil {
		return err
	}
	sort.Strings(paths)
	for _, dep := range deps {
		helpers, err := filepath.Glob(filepath.Join(dep, "templates", "_*.tpl"))
		if err != nil {
			return err
		}
		for _, p := range helpers {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if _, err := tpl.New(dep + "/" + filepath.Base(p)).Parse(string(data)); err != nil {
				return err
			}
		}
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if _, err := tpl.New(filepath.Base(p)).Parse(string(data)); err != nil {
			return err
		}
	}
	for _, p := range paths {
		base := filepath.Base(p)
		if strings.HasPrefix(base, "_") || (base == "NOTES.txt") != notes {
			continue
		}
		var buf bytes.Buffer
		if err := tpl.ExecuteTemplate(&buf, base, root); err != nil {
			return err
		}
		out := strings.TrimSpace(buf.String())
		if out == "" {
			continue
		}
		if notes {
			fmt.Println(out)
		} else {
			fmt.Printf("---\n# Source: %s/templates/%s\n%s\n", meta["name"], base, out)
		}
	}
	return nil
}
