package config

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

const envPrefix = "HALLWATCH_"

// envField is one setting that an environment variable can override.
type envField struct {
	name string // HALLWATCH_HTTP_LISTEN
	key  string // http.listen
	v    reflect.Value
}

// envFields lists, by reflection over the YAML tags, every scalar and
// []string field reachable from v through structs (not through lists):
// the variable name is HALLWATCH_ plus the upper-cased key path.
func envFields(v reflect.Value, key string) []envField {
	var out []envField
	t := v.Type()
	for i := range t.NumField() {
		name := yamlName(t.Field(i))
		if name == "" {
			continue
		}
		sub, fv := joinKey(key, name), v.Field(i)
		switch {
		case fv.Kind() == reflect.Struct:
			out = append(out, envFields(fv, sub)...)
		case fv.Kind() == reflect.Slice && fv.Type().Elem().Kind() != reflect.String,
			fv.Kind() == reflect.Pointer:
			// lists of items are configured in the file only
		default:
			out = append(out, envField{name: envName(sub), key: sub, v: fv})
		}
	}
	return out
}

func envName(key string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// applyEnv overrides cfg with the HALLWATCH_* variables of env (KEY=VALUE
// entries; a later entry wins). Variables that name no setting, such as
// HALLWATCH_TESTDATA, are ignored.
func applyEnv(cfg *Config, env []string, o *origins) Errors {
	vars := map[string]string{}
	for _, kv := range env {
		if name, value, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(name, envPrefix) {
			vars[name] = value
		}
	}
	var errs Errors
	for _, f := range envFields(reflect.ValueOf(cfg).Elem(), "") {
		value, ok := vars[f.name]
		if !ok {
			continue
		}
		o.env[f.key] = f.name
		if err := setFromEnv(f.v, value); err != nil {
			errs = append(errs, o.locate(f.key, err.Error()))
		}
	}
	return errs
}

func setFromEnv(v reflect.Value, s string) error {
	switch {
	case v.Type() == reflect.TypeFor[Duration]():
		d, err := parseDuration(s)
		if err != nil {
			return err
		}
		v.Set(reflect.ValueOf(d))
	case v.Type() == reflect.TypeFor[ByteSize]():
		b, err := parseByteSize(s)
		if err != nil {
			return err
		}
		v.Set(reflect.ValueOf(b))
	case v.Kind() == reflect.String:
		v.SetString(s)
	case v.Kind() == reflect.Slice:
		var items []string
		for item := range strings.SplitSeq(s, ",") {
			if item = strings.TrimSpace(item); item != "" {
				items = append(items, item)
			}
		}
		v.Set(reflect.ValueOf(items))
	case v.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("want true or false, got %q", s)
		}
		v.SetBool(b)
	case v.Kind() == reflect.Int:
		n, err := strconv.Atoi(s)
		if err != nil {
			return fmt.Errorf("want an integer, got %q", s)
		}
		v.SetInt(int64(n))
	case v.Kind() == reflect.Float64:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("want a number, got %q", s)
		}
		v.SetFloat(f)
	}
	return nil
}
