package frontend

import (
	"context"
	"fmt"

	"github.com/evanw/esbuild/pkg/api"
)

// Watch builds once, then rebuilds whenever a file under web/ changes, calling
// onBuild with each new manifest (or the error) until ctx is done. It backs
// `pyplay serve -dev`; runtime files are copied once and not compressed.
func Watch(ctx context.Context, opts BuildOptions, onBuild func(*Manifest, error)) error {
	opts.Compress = false
	if err := opts.normalize(); err != nil {
		return err
	}
	base := &Manifest{Entries: map[string]string{}, Runtimes: map[string]*RuntimeInfo{}}
	if err := copyRuntimes(opts, base); err != nil {
		return err
	}
	if err := buildWasm(opts); err != nil {
		return err
	}
	eo := esbuildOptions(opts)
	eo.Plugins = []api.Plugin{{
		Name: "pyplay-manifest",
		Setup: func(b api.PluginBuild) {
			b.OnEnd(func(r *api.BuildResult) (api.OnEndResult, error) {
				if err := buildErrors(*r); err != nil {
					onBuild(nil, err)
					return api.OnEndResult{}, nil
				}
				m := &Manifest{Entries: map[string]string{}, Runtimes: base.Runtimes}
				err := finishBuild(opts, m, *r)
				onBuild(m, err)
				return api.OnEndResult{}, nil
			})
		},
	}}
	bctx, cerr := api.Context(eo)
	if cerr != nil {
		return fmt.Errorf("dev: esbuild context: %w", cerr)
	}
	if err := bctx.Watch(api.WatchOptions{}); err != nil {
		bctx.Dispose()
		return fmt.Errorf("dev: watch: %w", err)
	}
	go func() {
		<-ctx.Done()
		bctx.Dispose()
	}()
	return nil
}
