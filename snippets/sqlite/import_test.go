package sqlite

import (
	"testing"

	"github.com/pyplay/pyplay/snippets"
	"github.com/pyplay/pyplay/snippets/storetest"
)

func TestImport(t *testing.T) {
	storetest.RunImport(t, func(t *testing.T) snippets.Store { return openTemp(t) })
}
