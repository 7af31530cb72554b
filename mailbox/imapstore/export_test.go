package imapstore

// PoolPeak returns the most connections the store had open at once.
func PoolPeak(s *Store) int {
	s.pool.mu.Lock()
	defer s.pool.mu.Unlock()
	return s.pool.peak
}
