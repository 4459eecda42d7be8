package env

import (
	"encoding/binary"
	"math/bits"
)

// Rand is a node's source of randomness: seeded per node in sim, unpredictable in netstack.
// Key material and nonces come from Fill, so they are reproducible in sim and secure in
// production (netstack backs Fill with the OS's cryptographic source).
type Rand interface {
	// Uint64 returns 64 random bits.
	Uint64() uint64
	// Intn returns a uniform value in [0, n); it panics if n <= 0.
	Intn(n int) int
	// Fill overwrites p with random bytes.
	Fill(p []byte)
}

// PRNG is a small, fast, seeded generator (xoshiro256** seeded through splitmix64). It is not
// safe for concurrent use and not cryptographically secure; sim uses it for everything so that
// a seed fixes the whole run.
type PRNG struct {
	s [4]uint64
}

// NewPRNG returns a generator whose whole output is fixed by seed.
func NewPRNG(seed uint64) *PRNG {
	p := &PRNG{}
	x := seed
	for i := range p.s {
		x, p.s[i] = splitmix64(x)
	}
	return p
}

func splitmix64(x uint64) (next, out uint64) {
	x += 0x9e3779b97f4a7c15
	z := x
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return x, z ^ (z >> 31)
}

// Uint64 implements Rand.
func (p *PRNG) Uint64() uint64 {
	s := &p.s
	result := bits.RotateLeft64(s[1]*5, 7) * 9
	t := s[1] << 17
	s[2] ^= s[0]
	s[3] ^= s[1]
	s[1] ^= s[2]
	s[0] ^= s[3]
	s[2] ^= t
	s[3] = bits.RotateLeft64(s[3], 45)
	return result
}

// Intn implements Rand, without modulo bias (Lemire's multiply-shift rejection).
func (p *PRNG) Intn(n int) int {
	Assertf(n > 0, "env: Intn(%d): n must be positive", n)
	bound := uint64(n)
	hi, lo := bits.Mul64(p.Uint64(), bound)
	if lo < bound {
		threshold := -bound % bound
		for lo < threshold {
			hi, lo = bits.Mul64(p.Uint64(), bound)
		}
	}
	return int(hi)
}

// Fill implements Rand.
func (p *PRNG) Fill(b []byte) {
	for len(b) >= 8 {
		binary.LittleEndian.PutUint64(b, p.Uint64())
		b = b[8:]
	}
	if len(b) > 0 {
		var tail [8]byte
		binary.LittleEndian.PutUint64(tail[:], p.Uint64())
		copy(b, tail[:])
	}
}

// Fork returns a new generator seeded from this one, so a component can own a stream of its
// own whose values do not depend on how often others draw.
func (p *PRNG) Fork() *PRNG { return NewPRNG(p.Uint64()) }

// Float64 returns a uniform value in [0, 1).
func Float64(r Rand) float64 { return float64(r.Uint64()>>11) / (1 << 53) }

// Chance reports true with probability prob.
func Chance(r Rand, prob float64) bool { return prob > 0 && Float64(r) < prob }

// Between returns a uniform value in [lo, hi]; it panics if hi < lo.
func Between(r Rand, lo, hi int64) int64 {
	Assertf(hi >= lo, "env: Between(%d, %d): empty range", lo, hi)
	span := uint64(hi - lo)
	if span == ^uint64(0) {
		return int64(r.Uint64())
	}
	v := r.Uint64()
	h, _ := bits.Mul64(v, span+1)
	return lo + int64(h)
}

const tokenChars = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// Token is n random base-62 characters (made-up subjects, event ids), ten per 64 bits drawn.
func Token(r Rand, n int) string {
	b := make([]byte, n)
	var v uint64
	for i := range b {
		if i%10 == 0 {
			v = r.Uint64()
		}
		b[i] = tokenChars[v%62]
		v /= 62
	}
	return string(b)
}
