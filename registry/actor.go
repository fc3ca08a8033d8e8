package registry

import "context"

// Actor kinds.
const (
	ActorUser      = "user"
	ActorRobot     = "robot"
	ActorAnonymous = "anonymous"
)

// Actor is who asked for a change or a read, as the gateway authenticated it.
type Actor struct {
	// Name is the user or robot name; "" for an anonymous caller.
	Name string
	// Kind is ActorUser, ActorRobot or ActorAnonymous.
	Kind string
	// Addr is the caller's network address as the gateway saw it.
	Addr string
}

type actorKey struct{}

// WithActor returns a context that carries a; every event the registry writes for
// a call with this context names a.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor ctx carries, or the zero Actor (internal work such as
// replication or cleanup).
func ActorFrom(ctx context.Context) Actor {
	a, _ := ctx.Value(actorKey{}).(Actor)
	return a
}

// stamp returns e naming the actor of ctx, when ctx carries one.
func stamp(ctx context.Context, e Event) Event {
	a, ok := ctx.Value(actorKey{}).(Actor)
	if !ok {
		return e
	}
	e.Actor, e.ActorKind, e.Addr = a.Name, a.Kind, a.Addr
	return e
}
