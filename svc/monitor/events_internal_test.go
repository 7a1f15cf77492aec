package monitor

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestBusSlowSubscriber checks that a subscriber that does not read
// loses the events beyond its buffer (counted) and never blocks the
// publisher, and that close ends every subscription.
func TestBusSlowSubscriber(t *testing.T) {
	b := newBus()
	slow, fast := b.subscribe(), b.subscribe()
	var got []uint64
	for i := range eventBufferPerSink + 44 {
		b.publish(Event{Kind: EventTask, Message: "x"})
		if i%2 == 0 {
			for len(fast.C) > 0 {
				got = append(got, (<-fast.C).Seq)
			}
		}
	}
	require.Equal(t, uint64(44), slow.Dropped())
	require.Len(t, slow.C, eventBufferPerSink)
	require.Equal(t, uint64(1), (<-slow.C).Seq, "the oldest events are kept, in order")
	b.unsubscribe(fast)
	b.close()
	require.Nil(t, b.subscribe(), "no subscription after close")
	for range slow.C {
	}
	_, open := <-slow.C
	require.False(t, open)
	require.Equal(t, uint64(1), got[0])
}
