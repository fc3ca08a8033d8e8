package plugins

import (
	"fmt"
	"slices"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

var (
	i32 = api.ValueTypeI32
	i64 = api.ValueTypeI64
)

// signature is an export's expected parameter and result types.
type signature struct{ params, results []api.ValueType }

var requiredExports = map[string]signature{
	exportMarker:   {nil, []api.ValueType{i32}},
	exportAlloc:    {[]api.ValueType{i32}, []api.ValueType{i32}},
	exportDescribe: {nil, []api.ValueType{i64}},
	exportInit:     {[]api.ValueType{i32, i32}, []api.ValueType{i64}},
}

var hookSignature = signature{[]api.ValueType{i32, i32}, []api.ValueType{i64}}

// checkModule inspects a compiled module without running it: the ABI marker
// first, then the required exports and their types, then the imports.
func checkModule(cm wazero.CompiledModule) error {
	if err := checkMarker(cm); err != nil {
		return err
	}
	if _, ok := cm.ExportedMemories()[exportMemory]; !ok {
		return fmt.Errorf("%w: no exported memory %q", ErrNotPlugin, exportMemory)
	}
	fns := cm.ExportedFunctions()
	for name, sig := range requiredExports {
		if err := checkSignature(fns, name, sig); err != nil {
			return err
		}
	}
	for name := range fns {
		if len(name) > len(hookPrefix) && name[:len(hookPrefix)] == hookPrefix {
			if err := checkSignature(fns, name, hookSignature); err != nil {
				return err
			}
		}
	}
	return checkImports(cm)
}

// checkMarker refuses a module without the berth_abi_v1 export, naming the major
// it marks instead when there is one.
func checkMarker(cm wazero.CompiledModule) error {
	fns := cm.ExportedFunctions()
	if _, ok := fns[exportMarker]; ok {
		return nil
	}
	for name := range fns {
		if major, ok := markerMajor(name); ok {
			return fmt.Errorf("%w: module speaks ABI major %d, host speaks %s",
				ErrABIVersion, major, abiString())
		}
	}
	return fmt.Errorf("%w: no %s export (not a Berth plugin?)", ErrNotPlugin, exportMarker)
}

func checkSignature(fns map[string]api.FunctionDefinition, name string, sig signature) error {
	def, ok := fns[name]
	if !ok {
		return fmt.Errorf("%w: missing export %s", ErrNotPlugin, name)
	}
	if !slices.Equal(def.ParamTypes(), sig.params) ||
		!slices.Equal(def.ResultTypes(), sig.results) {
		return fmt.Errorf("%w: export %s has the wrong signature", ErrNotPlugin, name)
	}
	return nil
}

// checkImports refuses imports other than WASI and the host functions of ABI 1.
func checkImports(cm wazero.CompiledModule) error {
	for _, def := range cm.ImportedMemories() {
		mod, name, _ := def.Import()
		return fmt.Errorf("%w: memory %s.%s (a plugin exports its own memory)",
			ErrUnknownImport, mod, name)
	}
	for _, def := range cm.ImportedFunctions() {
		mod, name, _ := def.Import()
		switch {
		case mod == wasiModule:
		case mod == HostModule && hostFunctions[name] != "":
		default:
			return fmt.Errorf("%w: %s.%s (host provides %s and %s %s)", ErrUnknownImport,
				mod, name, wasiModule, HostModule, abiString())
		}
	}
	return nil
}
