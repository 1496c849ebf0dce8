package bench

import "strings"

// cell neutralises a CSV cell a client chose: spreadsheets read a cell
// that starts with =, +, - or @ (or a tab or carriage return, which some
// strip first) as a formula, which can fetch URLs or run commands when the
// export is opened. Such a cell gets a leading apostrophe, which
// spreadsheets take as "this is text" (OWASP's advice on CSV injection).
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
