// The environment= syntax of supervisord, which Ramona's [program:x]
// environment= key shares: KEY=VALUE pairs cut into tokens as Python's
// shlex does in its non-POSIX mode, quotes that allow commas and spaces in
// a value. supervisord.go also reads [supervisord] environment= with it.
package main

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// parseEnvironment reads KEY=VALUE pairs in supervisord's environment=
// syntax: the value is cut into tokens as Python's shlex does in its
// non-POSIX mode (runs of letters, digits and _/.+-():, quoted strings that
// keep their quotes, any other character alone, # starts a comment), then
// read three tokens at a time (KEY, =, VALUE) with one separator token (a
// comma) between pairs; quotes around a value are removed.
func parseEnvironment(v string) ([]EnvVar, error) {
	tokens, err := envTokens(v, false)
	if err != nil {
		return nil, err
	}
	return envPairs(v, tokens)
}

// envPairs reads the tokens of an environment= value as KEY = VALUE triples
// with one separator between them. supervisord takes any token as the
// separator; Ramona only a single character that is no word, so that "A=x
// y" is an error instead of A=x.
func envPairs(v string, tokens []string) ([]EnvVar, error) {
	bad := func(at string) error {
		return fmt.Errorf("%q is not KEY=VALUE pairs (at %q); separate the pairs with commas and quote values that hold characters other than letters, digits and _/.+-():, e.g. A=\"x y\",B=\"1,2\"", v, at)
	}
	separator := func(sep string) bool {
		r := []rune(sep)
		return len(r) == 1 && sep != "=" && !wordRune(r[0]) && r[0] != '"' && r[0] != '\''
	}
	var vars []EnvVar
	for i := 0; i < len(tokens); i += 4 {
		if i > 0 && !separator(tokens[i-1]) {
			return nil, bad(tokens[i-1])
		}
		if i+2 >= len(tokens) || tokens[i+1] != "=" {
			return nil, bad(tokens[i])
		}
		vars = append(vars, EnvVar{Name: tokens[i], Value: strings.Trim(tokens[i+2], `'"`)})
	}
	if n := len(tokens); n%4 == 0 && n > 0 && !separator(tokens[n-1]) { // a trailing comma is fine
		return nil, bad(tokens[n-1])
	}
	return vars, nil
}

// wordRune is a word character of shlex as supervisord sets it up.
func wordRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || strings.ContainsRune("/.+-():", r)
}

// envTokens is the token list of Python's shlex.shlex(v) (non-POSIX) with
// "/.+-():" added to its word characters. With keepRefs, %(name)s
// references and %% are word characters too: the tokens of a value before
// its references are expanded.
func envTokens(v string, keepRefs bool) ([]string, error) {
	rs := []rune(v)
	// wordLen is the length of the word characters at rs[i:], 0 for none.
	wordLen := func(i int) int {
		r := rs[i]
		if wordRune(r) {
			return 1
		}
		if !keepRefs || r != '%' || i+1 >= len(rs) {
			return 0
		}
		if rs[i+1] == '%' {
			return 2
		}
		if rs[i+1] != '(' {
			return 0
		}
		rest := string(rs[i:])
		end := strings.IndexByte(rest, ')')
		if end < 0 {
			return 0
		}
		_, n := readConversion(rest[end+1:])
		if n == 0 {
			return 0
		}
		return utf8.RuneCountInString(rest[:end+1+n])
	}
	var tokens []string
	for i := 0; i < len(rs); {
		r := rs[i]
		switch {
		case r == ' ' || r == '\t' || r == '\r' || r == '\n':
			i++
		case r == '#': // a comment, to the end of the line
			for i < len(rs) && rs[i] != '\n' {
				i++
			}
		case wordLen(i) > 0:
			j := i
			for j < len(rs) {
				n := wordLen(j)
				if n == 0 {
					break
				}
				j += n
			}
			tokens = append(tokens, string(rs[i:j]))
			i = j
		case r == '"' || r == '\'':
			j := i + 1
			for j < len(rs) && rs[j] != r {
				j++
			}
			if j >= len(rs) {
				return nil, fmt.Errorf("%q has no closing quotation", v)
			}
			tokens = append(tokens, string(rs[i:j+1]))
			i = j + 1
		default:
			tokens = append(tokens, string(r))
			i++
		}
	}
	return tokens, nil
}
