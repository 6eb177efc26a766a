package engine

// BuildBefore makes cp act as the build from before the first change above
// it: that build never asked for the change, so it neither records it nor
// replays a history that holds its marker (it fails such a task, as a
// real older binary does). The upgrade tests run it as "version A".
func BuildBefore(cp Compat) Compat {
	cp.before = true
	return cp
}
