// Large values for echo_pairs, echo_bulk, raise_large, echo_held, echo_trees and echo_wide_bulk: messages
// of 64 KiB and more, which omniORB sends as fragments in GIOP 1.1 and 1.2. Every element is
// computed from its field, a seed and its index exactly as src/large.rs computes it (change
// one, change the other), so whichever side receives a value checks it element by element, and
// a value that went wrong on the way names the first element that differs, what it is and what
// it should be. Included by client.cc and server.cc.

#ifndef INTEROP_LARGE_H
#define INTEROP_LARGE_H

#include "interop.hh"

#include <array>
#include <cstdint>
#include <cstring>
#include <sstream>
#include <string>

namespace large {

// The sizes echo_pairs is called with: the two the fragment bug was reported with.
static const CORBA::ULong PAIRS_COUNTS[2] = {1000, 65536};
// A lead is the first 1 to 7 characters of this; their number seeds every other value.
static const char LEAD[] = "abcdefg";
static const unsigned FIRST_SEED = 1, LAST_SEED = 7;

// What a value is of, so that each field draws other numbers (as Field in src/large.rs).
enum Field {
  PAIRS = 1, OCTETS, BOOLEANS, CHARS, SHORTS, USHORTS, LONGS, ULONGS, LONGLONGS,
  ULONGLONGS, FLOATS, DOUBLES, STRINGS, ODDS, SHAPES, SHAPE_LABELS, COLORS, NESTED, HELD,
  WCHARS, WSTRINGS, RECORDS, RECORD_TEXTS, GRIDS, REASONS, TREES
};

// How many elements a field of a Bulk or WideBulk has; the seed is added, so each seed
// moves the boundaries of everything that follows.
inline CORBA::ULong count(Field f, unsigned seed) {
  static const CORBA::ULong base[] = {0,    1000, 9001, 8191, 8209, 4999, 4111, 3001,
                                      2801, 1503, 1301, 2503, 1237, 701,  997,  499,
                                      499,  2011, 101,  4500, 9001, 2003,
                                      601,  601,  701,  70000, 1000};
  return base[f] + seed;
}

// splitmix64's finaliser of (field, part, seed, index) packed in one word.
inline uint64_t mix(Field f, unsigned part, unsigned seed, uint64_t i) {
  uint64_t x = ((uint64_t)f << 56) ^ ((uint64_t)part << 48) ^ ((uint64_t)seed << 40) ^ i;
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

inline CORBA::Char latin1(uint64_t m) { return (CORBA::Char)(1 + m % 255); }
// 24 and 53 significant bits: exact in both languages, never a NaN.
inline CORBA::Float to_float(uint64_t m) {
  return (CORBA::Float)((int32_t)(m >> 40) - (1 << 23)) / 1024.0f;
}
inline CORBA::Double to_double(uint64_t m) {
  return (CORBA::Double)((int64_t)(m >> 11) - (1LL << 52)) / 1048576.0;
}
// A BMP character that is neither NUL nor a surrogate.
inline CORBA::WChar to_wchar(uint64_t m) { return (CORBA::WChar)(1 + m % 0xd7ff); }

// A Grid's six cells, row by row: an array cannot be returned.
typedef std::array<CORBA::Long, 6> Cells;

inline std::string text(Field f, unsigned seed, uint64_t i) {
  std::string s(mix(f, 0, seed, i) % 13, ' ');
  for (uint64_t k = 0; k < s.size(); ++k) s[k] = latin1(mix(f, 1, seed, (i << 8) | k));
  return s;
}

inline std::wstring wide_text(unsigned seed, uint64_t i) {
  std::wstring s(mix(WSTRINGS, 0, seed, i) % 21, L' ');
  for (uint64_t k = 0; k < s.size(); ++k) s[k] = to_wchar(mix(WSTRINGS, 1, seed, (i << 8) | k));
  return s;
}

inline Interop::Pair pair(Field f, unsigned seed, CORBA::ULong i) {
  Interop::Pair p;
  p.a = to_double(mix(f, 0, seed, i));
  p.b = to_double(mix(f, 1, seed, i));
  return p;
}

inline Interop::Odd odd(unsigned seed, CORBA::ULong i) {
  Interop::Odd o;
  o.o = (CORBA::Octet)mix(ODDS, 0, seed, i);
  o.d = to_double(mix(ODDS, 1, seed, i));
  return o;
}

inline Interop::Shape shape(unsigned seed, CORBA::ULong i) {
  uint64_t m = mix(SHAPES, 0, seed, i);
  Interop::Shape s;
  switch (m % 4) {
    case 0:
      s.radius((CORBA::Long)(uint32_t)mix(SHAPES, 1, seed, i));
      break;
    case 1:
    case 2:
      s.label(text(SHAPE_LABELS, seed, i).c_str());
      s._d((CORBA::Long)(m % 4) + 1);
      break;
    default:
      s.weight(to_double(mix(SHAPES, 2, seed, i)));
      s._d(4 + (CORBA::Long)((m >> 8) % 1000));
  }
  return s;
}

inline Interop::LongSeq nested(unsigned seed, CORBA::ULong i) {
  Interop::LongSeq l;
  l.length(mix(NESTED, 0, seed, i) % 40);
  for (CORBA::ULong k = 0; k < l.length(); ++k)
    l[k] = (CORBA::Long)(uint32_t)mix(NESTED, 1, seed, ((uint64_t)i << 8) | k);
  return l;
}

// A sequence's element set to a value; strings (made as std::string or std::wstring) are
// copied into the sequence, whose elements are proxies returned by value.
template <class E, class V>
void assign(E& e, const V& v) { e = v; }
inline void assign(_CORBA_String_element e, const std::string& v) { e = v.c_str(); }
inline void assign(_CORBA_WString_element e, const std::wstring& v) { e = v.c_str(); }
inline void assign(Interop::Grid_slice* e, const Cells& v) {
  for (int k = 0; k < 6; ++k) e[k / 3][k % 3] = v[k];
}

inline Interop::Record record(unsigned seed, CORBA::ULong i) {
  auto m = [&](unsigned part) { return mix(RECORDS, part, seed, i); };
  Interop::Record r;
  r.s = (CORBA::Short)(uint16_t)m(0);
  r.us = (CORBA::UShort)m(1);
  r.l = (CORBA::Long)(uint32_t)m(2);
  r.ul = (CORBA::ULong)m(3);
  r.ll = (CORBA::LongLong)m(4);
  r.ull = (CORBA::ULongLong)m(5);
  r.f = to_float(m(6));
  r.d = to_double(m(7));
  r.b = (CORBA::Boolean)((m(8) >> 7) & 1);
  r.o = (CORBA::Octet)m(9);
  r.c = latin1(m(10));
  r.str = text(RECORD_TEXTS, seed, i).c_str();
  r.hue = (Interop::Color)(m(11) % 3);
  r.where.x = (CORBA::Long)(uint32_t)m(12);
  r.where.y = (CORBA::Long)(uint32_t)m(13);
  return r;
}

inline Cells grid(unsigned seed, CORBA::ULong i) {
  Cells g;
  for (uint64_t k = 0; k < 6; ++k)
    g[k] = (CORBA::Long)(uint32_t)mix(GRIDS, 0, seed, ((uint64_t)i << 3) | k);
  return g;
}

// Node `path` of tree `i` (1 for the root; a child's is four times its parent's plus one
// plus its index): up to two children each, three levels below the root at most.
inline Interop::Node node(unsigned seed, CORBA::ULong i, uint64_t path, unsigned depth) {
  uint64_t key = ((uint64_t)i << 16) | path;
  Interop::Node n;
  n.id = (CORBA::Long)(uint32_t)mix(TREES, depth, seed, key);
  n.children.length(depth < 3 ? (CORBA::ULong)(mix(TREES, 8 + depth, seed, key) % 3) : 0);
  for (CORBA::ULong j = 0; j < n.children.length(); ++j)
    n.children[j] = node(seed, i, 4 * path + 1 + j, depth + 1);
  return n;
}

// What echo_trees is called with after the lead of `seed`: anys each holding a tree of
// Nodes, with Node's recursive TypeCode.
inline Interop::AnySeq trees(unsigned seed) {
  Interop::AnySeq t;
  t.length(count(TREES, seed));
  for (CORBA::ULong i = 0; i < t.length(); ++i) t[i] <<= node(seed, i, 1, 0);
  return t;
}

// The reason of the Failure raise_large raises after the lead of `seed`: 70,000 and more
// ISO-8859-1 characters.
inline std::string reason(unsigned seed) {
  std::string s(count(REASONS, seed), ' ');
  for (uint64_t k = 0; k < s.size(); ++k) s[k] = latin1(mix(REASONS, 0, seed, k));
  return s;
}

// Fills `seq` with the values of `f`: element i is want(i).
template <class Seq, class Want>
void fill(Seq& seq, Field f, unsigned seed, Want want) {
  seq.length(count(f, seed));
  for (CORBA::ULong i = 0; i < seq.length(); ++i) assign(seq[i], want(i));
}

// Every generator of a Bulk's fields, by field (strings as std::string, for both filling
// and comparing).
#define LARGE_BULK_FIELDS(X)                                                            \
  X(octets, OCTETS, (CORBA::Octet)mix(OCTETS, 0, seed, i))                               \
  X(booleans, BOOLEANS, (CORBA::Boolean)((mix(BOOLEANS, 0, seed, i) >> 7) & 1))          \
  X(chars, CHARS, latin1(mix(CHARS, 0, seed, i)))                                        \
  X(shorts, SHORTS, (CORBA::Short)(uint16_t)mix(SHORTS, 0, seed, i))                     \
  X(ushorts, USHORTS, (CORBA::UShort)mix(USHORTS, 0, seed, i))                           \
  X(longs, LONGS, (CORBA::Long)(uint32_t)mix(LONGS, 0, seed, i))                         \
  X(ulongs, ULONGS, (CORBA::ULong)mix(ULONGS, 0, seed, i))                               \
  X(longlongs, LONGLONGS, (CORBA::LongLong)mix(LONGLONGS, 0, seed, i))                   \
  X(ulonglongs, ULONGLONGS, (CORBA::ULongLong)mix(ULONGLONGS, 0, seed, i))               \
  X(floats, FLOATS, to_float(mix(FLOATS, 0, seed, i)))                                   \
  X(doubles, DOUBLES, to_double(mix(DOUBLES, 0, seed, i)))                               \
  X(strings, STRINGS, text(STRINGS, seed, i))                                            \
  X(pairs, PAIRS, pair(PAIRS, seed, i))                                                  \
  X(odds, ODDS, odd(seed, i))                                                            \
  X(shapes, SHAPES, shape(seed, i))                                                      \
  X(colors, COLORS, (Interop::Color)(mix(COLORS, 0, seed, i) % 3))                       \
  X(nested, NESTED, nested(seed, i))                                                     \
  X(recs, RECORDS, record(seed, i))                                                      \
  X(grids, GRIDS, grid(seed, i))

// What echo_pairs is called with: n pairs of seed 0.
inline Interop::PairSeq pairs(CORBA::ULong n) {
  Interop::PairSeq p;
  p.length(n);
  for (CORBA::ULong i = 0; i < n; ++i) p[i] = pair(PAIRS, 0, i);
  return p;
}

// The Bulk of `seed` (1 to 7), its references [first, nil, second].
inline Interop::Bulk bulk(unsigned seed, Interop::Peer_ptr first, Interop::Peer_ptr second) {
  Interop::Bulk b;
  b.lead = std::string(LEAD, seed).c_str();
#define LARGE_FILL(member, field, value) \
  fill(b.member, field, seed, [&](CORBA::ULong i) { return value; });
  LARGE_BULK_FIELDS(LARGE_FILL)
#undef LARGE_FILL
  b.peers.length(3);
  b.peers[0] = Interop::Peer::_duplicate(first);
  b.peers[1] = Interop::Peer::_nil();
  b.peers[2] = Interop::Peer::_duplicate(second);
  return b;
}

// What echo_held is called with after the lead of `seed`: a PairSeq in an any.
inline CORBA::Any held(unsigned seed) {
  Interop::PairSeq pairs;
  fill(pairs, HELD, seed, [&](CORBA::ULong i) { return pair(HELD, seed, i); });
  CORBA::Any a;
  a <<= pairs;
  return a;
}

inline Interop::WideBulk wide_bulk(unsigned seed) {
  Interop::WideBulk w;
  w.lead = std::string(LEAD, seed).c_str();
  fill(w.wchars, WCHARS, seed, [&](CORBA::ULong i) { return to_wchar(mix(WCHARS, 0, seed, i)); });
  fill(w.wstrings, WSTRINGS, seed, [&](CORBA::ULong i) { return wide_text(seed, i); });
  return w;
}

// Equality and printing of every element type, for check().
template <class T>
bool same(const T& a, const T& b) { return a == b; }
inline bool same(const char* a, const std::string& b) { return b == a; }
inline bool same(const CORBA::WChar* a, const std::wstring& b) { return b == a; }
inline bool same(const Interop::Pair& a, const Interop::Pair& b) {
  return a.a == b.a && a.b == b.b;
}
inline bool same(const Interop::Odd& a, const Interop::Odd& b) { return a.o == b.o && a.d == b.d; }
inline bool same(const Interop::Shape& a, const Interop::Shape& b) {
  if (a._d() != b._d()) return false;
  switch (a._d()) {
    case 1: return a.radius() == b.radius();
    case 2: case 3: return !std::strcmp(a.label(), b.label());
    default: return a.weight() == b.weight();
  }
}
inline bool same(const Interop::Record& a, const Interop::Record& b) {
  return a.s == b.s && a.us == b.us && a.l == b.l && a.ul == b.ul && a.ll == b.ll &&
         a.ull == b.ull && a.f == b.f && a.d == b.d && a.b == b.b && a.o == b.o &&
         a.c == b.c && !std::strcmp(a.str, b.str) && a.hue == b.hue &&
         a.where.x == b.where.x && a.where.y == b.where.y;
}
inline bool same(const Interop::Grid_slice* a, const Cells& b) {
  for (int k = 0; k < 6; ++k)
    if (a[k / 3][k % 3] != b[k]) return false;
  return true;
}
inline bool same(const Interop::Node& a, const Interop::Node& b) {
  if (a.id != b.id || a.children.length() != b.children.length()) return false;
  for (CORBA::ULong j = 0; j < a.children.length(); ++j)
    if (!same(a.children[j], b.children[j])) return false;
  return true;
}
inline bool same(const CORBA::Any& a, const Interop::Node& b) {
  const Interop::Node* n = 0;
  return (a >>= n) && same(*n, b);
}
inline bool same(const Interop::LongSeq& a, const Interop::LongSeq& b) {
  if (a.length() != b.length()) return false;
  for (CORBA::ULong k = 0; k < a.length(); ++k)
    if (a[k] != b[k]) return false;
  return true;
}

template <class T>
std::string show(const T& v) {
  std::ostringstream s;
  s.precision(17);
  s << v;
  return s.str();
}
inline std::string show(unsigned char v) { return std::to_string((unsigned)v); }
inline std::string show(char v) { return std::to_string((unsigned)(unsigned char)v); }
inline std::string show(CORBA::WChar v) { return std::to_string((unsigned)v); }
inline std::string show(const char* v) { return "\"" + std::string(v) + "\""; }
inline std::string show(const std::string& v) { return show(v.c_str()); }
inline std::string show(const std::wstring& v) {
  std::string s = "[";
  for (size_t k = 0; k < v.size(); ++k) s += (k ? " " : "") + std::to_string((unsigned)v[k]);
  return s + "]";
}
inline std::string show(const CORBA::WChar* v) { return show(std::wstring(v)); }
inline std::string show(const Interop::Pair& p) {
  return "Pair { a: " + show(p.a) + ", b: " + show(p.b) + " }";
}
inline std::string show(const Interop::Odd& o) {
  return "Odd { o: " + show(o.o) + ", d: " + show(o.d) + " }";
}
inline std::string show(const Interop::Shape& s) {
  std::string d = show(s._d());
  switch (s._d()) {
    case 1: return "radius " + show(s.radius());
    case 2: case 3: return "label(" + d + ") " + show(s.label());
    default: return "weight(" + d + ") " + show(s.weight());
  }
}
inline std::string show(const Interop::Record& r) {
  return "Record { s: " + show(r.s) + ", us: " + show(r.us) + ", l: " + show(r.l) +
         ", ul: " + show(r.ul) + ", ll: " + show(r.ll) + ", ull: " + show(r.ull) +
         ", f: " + show(r.f) + ", d: " + show(r.d) + ", b: " + show(r.b) + ", o: " +
         show(r.o) + ", c: " + show(r.c) + ", str: " + show(r.str.in()) + ", hue: " +
         show((unsigned)r.hue) + ", where: " + show(r.where.x) + "," + show(r.where.y) + " }";
}
inline std::string show(const Cells& g) {
  std::string s = "[";
  for (int k = 0; k < 6; ++k) s += (k ? ", " : "") + show(g[k]);
  return s + "]";
}
inline std::string show(const Interop::Grid_slice* g) {
  Cells c;
  for (int k = 0; k < 6; ++k) c[k] = g[k / 3][k % 3];
  return show(c);
}
inline std::string show(const Interop::Node& n) {
  std::string s = "Node { id: " + show(n.id) + ", children: [";
  for (CORBA::ULong j = 0; j < n.children.length(); ++j) s += (j ? ", " : "") + show(n.children[j]);
  return s + "] }";
}
inline std::string show(const CORBA::Any& a) {
  const Interop::Node* n = 0;
  if (!(a >>= n)) return "an any without an Interop::Node";
  return show(*n);
}
inline std::string show(const Interop::LongSeq& l) {
  std::string s = "[";
  for (CORBA::ULong k = 0; k < l.length(); ++k) s += (k ? ", " : "") + show(l[k]);
  return s + "]";
}

// Strings and wide strings of a sequence, as the pointers same() and show() take.
template <class T>
const T& element(const T& v) { return v; }
inline const char* element(const _CORBA_String_element& v) { return v.in(); }
inline const CORBA::WChar* element(const _CORBA_WString_element& v) { return v.in(); }

// "" when `got` has count(f, seed) elements and element i is want(i); else the first element
// that differs (its index, what it is, what it should be, how many differ in all), or the
// wrong length.
template <class Seq, class Want>
std::string check(const char* what, const Seq& got, CORBA::ULong n, Want want) {
  CORBA::ULong common = got.length() < n ? got.length() : n;
  for (CORBA::ULong i = 0; i < common; ++i) {
    if (same(element(got[i]), want(i))) continue;
    CORBA::ULong wrong = 0;
    for (CORBA::ULong j = i; j < common; ++j)
      if (!same(element(got[j]), want(j))) ++wrong;
    return std::string(what) + "[" + std::to_string(i) + "] is " + show(element(got[i])) +
           ", expected " + show(want(i)) + " (" + std::to_string(wrong) + " of " +
           std::to_string(n) + " elements differ)";
  }
  if (got.length() != n)
    return std::string(what) + " has " + std::to_string(got.length()) + " elements, expected " +
           std::to_string(n);
  return "";
}

inline std::string check_pairs(const Interop::PairSeq& got, CORBA::ULong n) {
  return check("pairs", got, n, [](CORBA::ULong i) { return pair(PAIRS, 0, i); });
}

// The seed a lead gives, or 0 if it is not one of ours.
inline unsigned seed_of(const char* lead) {
  size_t n = std::strlen(lead);
  if (n < FIRST_SEED || n > LAST_SEED || std::strncmp(lead, LEAD, n)) return 0;
  return (unsigned)n;
}

// Checks a Bulk against the values its lead gives. Of the references only their nil-ness
// can be told here; the client compares them with those it sent.
inline std::string check_bulk(const Interop::Bulk& got) {
  unsigned seed = seed_of(got.lead);
  if (!seed) return "lead is " + show(got.lead.in()) + ", not 1 to 7 characters of \"abcdefg\"";
  std::string why;
#define LARGE_CHECK(member, field, value)                                          \
  if (why.empty())                                                                 \
    why = check(#member, got.member, count(field, seed), [&](CORBA::ULong i) { \
      return value;                                                                \
    });
  LARGE_BULK_FIELDS(LARGE_CHECK)
#undef LARGE_CHECK
  if (!why.empty()) return why;
  if (got.peers.length() != 3 || CORBA::is_nil(got.peers[0]) || !CORBA::is_nil(got.peers[1]) ||
      CORBA::is_nil(got.peers[2]))
    return "peers are not [a reference, nil, a reference]";
  return "";
}

// Checks what echo_held carries: a PairSeq of the HELD values of the lead's seed.
inline std::string check_held(const char* lead, const CORBA::Any& got) {
  unsigned seed = seed_of(lead);
  if (!seed) return "lead is " + show(lead) + ", not 1 to 7 characters of \"abcdefg\"";
  const Interop::PairSeq* held = 0;
  if (!(got >>= held)) return "held does not hold an Interop::PairSeq";
  return check("held", *held, count(HELD, seed),
               [&](CORBA::ULong i) { return pair(HELD, seed, i); });
}

// Checks the Failure raise_large raised after `lead`.
inline std::string check_failure(const char* lead, const Interop::Failure& got) {
  unsigned seed = seed_of(lead);
  if (!seed) return "lead is " + show(lead) + ", not 1 to 7 characters of \"abcdefg\"";
  if (got.code != (CORBA::Long)seed)
    return "code is " + show(got.code) + ", expected " + show(seed);
  std::string want = reason(seed), got_reason(got.reason.in());
  return check("reason", got_reason, want.size(), [&](CORBA::ULong k) { return want[k]; });
}

// Checks what echo_trees carries after `lead`.
inline std::string check_trees(const char* lead, const Interop::AnySeq& got) {
  unsigned seed = seed_of(lead);
  if (!seed) return "lead is " + show(lead) + ", not 1 to 7 characters of \"abcdefg\"";
  return check("trees", got, count(TREES, seed),
               [&](CORBA::ULong i) { return node(seed, i, 1, 0); });
}

inline std::string check_wide_bulk(const Interop::WideBulk& got) {
  unsigned seed = seed_of(got.lead);
  if (!seed) return "lead is " + show(got.lead.in()) + ", not 1 to 7 characters of \"abcdefg\"";
  std::string why = check("wchars", got.wchars, count(WCHARS, seed), [&](CORBA::ULong i) {
    return to_wchar(mix(WCHARS, 0, seed, i));
  });
  if (!why.empty()) return why;
  return check("wstrings", got.wstrings, count(WSTRINGS, seed),
               [&](CORBA::ULong i) { return wide_text(seed, i); });
}

}  // namespace large

#endif
