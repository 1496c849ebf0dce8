package snippets

import "context"

// Importer is implemented by stores that can date a snippet by its original
// creation time, so that restoring a backup or moving to another store
// keeps when each snippet was shared.
type Importer interface {
	// Import stores s as Put does, and then dates it s.Created when that
	// is set and earlier than the stored time (so importing the same
	// backup twice changes nothing). It reports whether s was new.
	Import(ctx context.Context, s *Snippet) (created bool, err error)
}

// Import stores s in st, keeping s.Created when st is an Importer; other
// stores date it now, as Put does.
func Import(ctx context.Context, st Store, s *Snippet) (created bool, err error) {
	if im, ok := st.(Importer); ok {
		return im.Import(ctx, s)
	}
	return st.Put(ctx, s)
}
