package cluster

// table maps 64-bit key hashes to 32-bit values with open addressing and
// linear probing. It is split into shards that grow one at a time, so that
// growing never holds two copies of the whole table and the average load
// stays near 60%: about 20 bytes per entry, a third of a Go map's. (Keys
// and values in one slot array would save a cache miss per lookup but
// cost a third more memory: padding makes a slot 16 bytes.)
//
// The hash 0 is reserved for empty slots; put and get map it to 1.
type table struct {
	shards [tableShards]shard
	n      int
}

const (
	tableShardBits = 6
	tableShards    = 1 << tableShardBits
)

type shard struct {
	keys []uint64
	vals []uint32
	n    int
}

func fixKey(k uint64) uint64 {
	if k == 0 {
		return 1
	}
	return k
}

// get returns the value of k and whether it is present.
func (t *table) get(k uint64) (uint32, bool) {
	k = fixKey(k)
	s := &t.shards[k>>(64-tableShardBits)]
	if len(s.keys) == 0 {
		return 0, false
	}
	mask := uint64(len(s.keys) - 1)
	for i := k & mask; ; i = (i + 1) & mask {
		switch s.keys[i] {
		case k:
			return s.vals[i], true
		case 0:
			return 0, false
		}
	}
}

// put sets the value of k.
func (t *table) put(k uint64, v uint32) { *t.ref(k) = v }

// ref returns a pointer to the value of k, adding k with the value 0 when
// absent. The pointer is valid until the next put or ref.
func (t *table) ref(k uint64) *uint32 {
	k = fixKey(k)
	s := &t.shards[k>>(64-tableShardBits)]
	if (s.n+1)*5 > len(s.keys)*4 {
		s.grow()
	}
	mask := uint64(len(s.keys) - 1)
	for i := k & mask; ; i = (i + 1) & mask {
		switch s.keys[i] {
		case k:
			return &s.vals[i]
		case 0:
			s.keys[i] = k
			s.n++
			t.n++
			return &s.vals[i]
		}
	}
}

func (s *shard) grow() {
	size := 2 * len(s.keys)
	if size < 64 {
		size = 64
	}
	oldK, oldV := s.keys, s.vals
	s.keys = make([]uint64, size)
	s.vals = make([]uint32, size)
	mask := uint64(size - 1)
	for j, k := range oldK {
		if k == 0 {
			continue
		}
		i := k & mask
		for s.keys[i] != 0 {
			i = (i + 1) & mask
		}
		s.keys[i] = k
		s.vals[i] = oldV[j]
	}
}

// len returns the number of entries.
func (t *table) len() int { return t.n }
