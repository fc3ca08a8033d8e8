package policies

import "berth.dev/berth/plugins"

// PluginBinding returns the plugin binding in force for the binding id, or nil.
func PluginBinding(e *Engine, id string) *plugins.Binding {
	for _, b := range e.cur.Load().bound {
		if b.ID == id {
			return b.b
		}
	}
	return nil
}
