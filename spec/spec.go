// Package spec reads a YAML spec into the model, strictly: unknown fields,
// wrong types and invalid values are all errors that name the file, line,
// column and field path, and say what was expected.
package spec

import (
	"encoding"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/tensorwasm/obsbundle/model"
)

// Error is one problem in a spec file, at a position.
type Error struct {
	File         string
	Line, Column int
	Path         string
	Msg          string
}

func (e *Error) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc = fmt.Sprintf("%s:%d:%d", e.File, e.Line, e.Column)
	}
	if e.Path == "" {
		return loc + ": " + e.Msg
	}
	return loc + ": " + e.Path + ": " + e.Msg
}

// LoadFile reads, decodes, defaults and validates the spec in file. A
// Sloth or OpenSLO file is imported; one with SLOs that cannot map is
// refused (see Load for converting the others).
func LoadFile(file string) (model.Spec, error) {
	s, _, err := Load(file, Options{})
	return s, err
}

func readFile(file string) ([]byte, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, &Error{File: file, Msg: fmt.Sprintf("cannot read spec: %v", errors.Unwrap(err))}
	}
	return data, nil
}

// Parse decodes data (named file in errors) into a defaulted, validated spec.
func Parse(file string, data []byte) (model.Spec, error) {
	s, _, err := ParseWith(file, data, Options{})
	return s, err
}

// ParseWith is Parse with import options, also returning what an import
// of a Sloth or OpenSLO file skipped, changed or invented. The format is
// recognised from each document's version fields before anything else is
// read, so errors speak of the format the file is in.
func ParseWith(file string, data []byte, opt Options) (model.Spec, Notes, error) {
	docs, err := documents(file, data)
	if err != nil {
		return model.Spec{}, Notes{}, err
	}
	if len(docs) == 0 {
		return model.Spec{}, Notes{}, &Error{File: file, Msg: "the spec is empty"}
	}
	kinds := make([]source, len(docs))
	foreign := false
	for i, d := range docs {
		if kinds[i], err = sourceOf(file, d); err != nil {
			return model.Spec{}, Notes{}, err
		}
		foreign = foreign || kinds[i] != native
	}
	if foreign {
		return importFile(file, docs, kinds, opt)
	}
	if len(docs) > 1 {
		return model.Spec{}, Notes{}, &Error{File: file, Msg: "expected one YAML document, found more"}
	}
	s, err := parseNative(file, docs[0])
	return s, Notes{}, err
}

// parseNative decodes this project's own spec.
func parseNative(file string, root *yaml.Node) (model.Spec, error) {
	d := &decoder{file: file, at: map[string]*yaml.Node{}}
	var s model.Spec
	d.decode(root, reflect.ValueOf(&s).Elem(), "")
	if len(d.errs) > 0 {
		return model.Spec{}, errors.Join(d.errs...)
	}
	s.SetDefaults()
	if err := s.Validate(); err != nil {
		return model.Spec{}, d.locate(err)
	}
	return s, nil
}

// yamlError turns yaml.v3's "yaml: line N: msg" into a positioned Error.
func yamlError(file string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	var line int
	if n, _ := fmt.Sscanf(msg, "line %d:", &line); n == 1 {
		msg = strings.TrimSpace(msg[strings.Index(msg, ":")+1:])
		return &Error{File: file, Line: line, Column: 1, Msg: "invalid YAML: " + msg}
	}
	return &Error{File: file, Msg: "invalid YAML: " + msg}
}

// decoder walks a YAML node tree into a model value, remembering the node
// of every field path so later validation errors can point at the line.
type decoder struct {
	file string
	at   map[string]*yaml.Node
	errs []error
}

func (d *decoder) fail(n *yaml.Node, path, format string, args ...any) {
	d.errs = append(d.errs, &Error{File: d.file, Line: n.Line, Column: n.Column, Path: path, Msg: fmt.Sprintf(format, args...)})
}

var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	d.at[path] = n
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if reflect.PointerTo(v.Type()).Implements(textUnmarshaler) {
		d.text(n, v, path)
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		d.decode(n, v.Elem(), path)
	case reflect.Struct:
		d.object(n, v, path)
	case reflect.Slice:
		d.list(n, v, path)
	case reflect.Map:
		d.mapping(n, v, path)
	default:
		d.scalar(n, v, path)
	}
}

func (d *decoder) object(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "expected a mapping of fields, got %s", describe(n))
		return
	}
	fields := map[string]int{}
	var names []string
	for i := range v.NumField() {
		tag := strings.Split(v.Type().Field(i).Tag.Get("yaml"), ",")[0]
		fields[tag] = i
		names = append(names, tag)
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		fp := join(path, key.Value)
		idx, ok := fields[key.Value]
		switch {
		case !ok:
			d.fail(key, fp, "unknown field %q; expected one of %s", key.Value, strings.Join(names, ", "))
		case seen[key.Value]:
			d.fail(key, fp, "field given twice")
		default:
			seen[key.Value] = true
			d.decode(val, v.Field(idx), fp)
		}
	}
}

func (d *decoder) list(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.SequenceNode {
		d.fail(n, path, "expected a list, got %s", describe(n))
		return
	}
	out := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		d.decode(item, out.Index(i), fmt.Sprintf("%s[%d]", path, i))
	}
	v.Set(out)
}

func (d *decoder) mapping(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "expected a mapping, got %s", describe(n))
		return
	}
	out := reflect.MakeMap(v.Type())
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		elem := reflect.New(v.Type().Elem()).Elem()
		d.decode(val, elem, join(path, key.Value))
		if out.MapIndex(reflect.ValueOf(key.Value)).IsValid() {
			d.fail(key, join(path, key.Value), "key given twice")
		}
		out.SetMapIndex(reflect.ValueOf(key.Value), elem)
	}
	v.Set(out)
}

func (d *decoder) text(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.ScalarNode {
		d.fail(n, path, "expected a duration such as 5m or 30d, got %s", describe(n))
		return
	}
	if err := v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(n.Value)); err != nil {
		d.fail(n, path, "expected a duration such as 5m or 30d, got %q", n.Value)
	}
}

func (d *decoder) scalar(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.ScalarNode {
		d.fail(n, path, "expected a %s, got %s", kindName(v.Kind()), describe(n))
		return
	}
	switch v.Kind() {
	case reflect.String:
		if n.Tag != "!!str" && n.Tag != "!!null" {
			d.fail(n, path, "expected a string, got %s (quote it)", describe(n))
			return
		}
		v.SetString(n.Value)
	case reflect.Float64:
		f, err := strconv.ParseFloat(n.Value, 64)
		if err != nil || (n.Tag != "!!int" && n.Tag != "!!float") {
			d.fail(n, path, "expected a number, got %q", n.Value)
			return
		}
		v.SetFloat(f)
	case reflect.Bool:
		b, err := strconv.ParseBool(n.Value)
		if err != nil || n.Tag != "!!bool" {
			d.fail(n, path, "expected true or false, got %q", n.Value)
			return
		}
		v.SetBool(b)
	default:
		d.fail(n, path, "unsupported field type %s", v.Type())
	}
}

func kindName(k reflect.Kind) string {
	switch k {
	case reflect.Float64:
		return "number"
	case reflect.Bool:
		return "boolean"
	}
	return k.String()
}

// describe names a node's shape for "expected X, got Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return fmt.Sprintf("%q", n.Value)
}

func join(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}

// locate attaches positions to model validation errors, using the deepest
// field path that was present in the file (defaulted fields have none).
func (d *decoder) locate(err error) error {
	var out []error
	for _, e := range unjoin(err) {
		var fe *model.FieldError
		if !errors.As(e, &fe) {
			out = append(out, &Error{File: d.file, Msg: e.Error()})
			continue
		}
		n := d.nearest(fe.Path)
		se := &Error{File: d.file, Path: fe.Path, Msg: fe.Msg}
		if n != nil {
			se.Line, se.Column = n.Line, n.Column
		}
		out = append(out, se)
	}
	return errors.Join(out...)
}

func (d *decoder) nearest(path string) *yaml.Node {
	for {
		if n, ok := d.at[path]; ok {
			return n
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			return d.at[""]
		}
		path = path[:i]
	}
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
