package bench

import (
	"math"
	"reflect"
)

// JSON has no NaN or infinity, and encoding/json refuses to write them, so
// one such statistic would make an endpoint answer 500 for as long as the
// data is stored. The protocol keeps new samples in a range whose
// statistics stay finite (benchproto.MaxNsPerIter), but the database may
// hold older ones, or another program's: so every view is made finite
// before it is encoded. A non-finite float becomes the nearest finite one
// (±math.MaxFloat64 for ±Inf, 0 for NaN): readable, clearly absurd, and
// no longer an error.

// finiteView makes every float64 reachable from v finite, in place, and
// returns v. It writes only where a value is not finite, so that views
// shared through the caches, already finite, are only read.
func finiteView[T any](v T) T {
	makeFinite(reflect.ValueOf(&v).Elem())
	return v
}

func makeFinite(v reflect.Value) {
	switch v.Kind() {
	case reflect.Float32, reflect.Float64:
		if f := v.Float(); math.IsNaN(f) || math.IsInf(f, 0) {
			if v.CanSet() {
				v.SetFloat(finiteFloat(f))
			}
		}
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			makeFinite(v.Elem())
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				makeFinite(v.Field(i))
			}
		}
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8 {
			return // []byte, json.RawMessage: no floats
		}
		for i := range v.Len() {
			makeFinite(v.Index(i))
		}
	case reflect.Map:
		if k := v.Type().Elem().Kind(); k != reflect.Float64 && k != reflect.Float32 {
			// Map values are not addressable; pyplay's views keep floats
			// in maps only directly (overview ratios).
			return
		}
		for it := v.MapRange(); it.Next(); {
			if f := it.Value().Float(); math.IsNaN(f) || math.IsInf(f, 0) {
				v.SetMapIndex(it.Key(), reflect.ValueOf(finiteFloat(f)).Convert(v.Type().Elem()))
			}
		}
	}
}

func finiteFloat(f float64) float64 {
	switch {
	case math.IsInf(f, 1):
		return math.MaxFloat64
	case math.IsInf(f, -1):
		return -math.MaxFloat64
	}
	return 0 // NaN
}
