// A request's decoded fields: unique string keys in ascending byte order, each with a string value.
//
// Why not std::map: a request carries a dozen fields, and the protocols look each one up two or three times (the
// signing string, validation, the order). A map costs a node allocation per field and a pointer chase per step
// of every look-up; this keeps the pairs in one vector, sorted, and finds a key by comparing lengths first (a
// binary search past kLinearFindMax keys). It offers the part of std::map's interface the protocols use, with the
// same meaning: iteration in key order, emplace keeps the first value of a key, operator[] inserts an empty value.
//
// Unlike std::map, every insertion or erasure may move the pairs: it invalidates all iterators and references
// into the map, including one passed back in as an argument (`f["a"] = f["b"]` reads a moved-from pair).
#pragma once

#include <algorithm>
#include <cstddef>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace paygate {

class FieldMap {
 public:
  using value_type = std::pair<std::string, std::string>;
  using iterator = std::vector<value_type>::iterator;
  using const_iterator = std::vector<value_type>::const_iterator;
  using size_type = size_t;

  FieldMap() = default;
  // As std::map's: a repeated key keeps its first value.
  FieldMap(std::initializer_list<value_type> pairs) {
    items_.reserve(pairs.size());
    for (const auto& [key, value] : pairs) emplace(key, value);
  }

  // As std::map's: from a range of (key, value) pairs, a repeated key keeping its first value.
  template <typename It>
  FieldMap(It first, It last) {
    for (; first != last; ++first) emplace(first->first, first->second);
  }

  const_iterator begin() const { return items_.begin(); }
  const_iterator end() const { return items_.end(); }
  iterator begin() { return items_.begin(); }
  iterator end() { return items_.end(); }
  size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  void reserve(size_t n) { items_.reserve(n); }
  void clear() { items_.clear(); }

  const_iterator find(std::string_view key) const {
    if (items_.size() <= kLinearFindMax) {
      // A request's dozen fields: comparing lengths first rejects nearly every other key in one step.
      for (auto it = items_.begin(); it != items_.end(); ++it) {
        if (it->first.size() == key.size() && std::string_view(it->first) == key) return it;
      }
      return items_.end();
    }
    auto it = lower_bound(key);
    return it != items_.end() && it->first == key ? it : items_.end();
  }
  iterator find(std::string_view key) { return mutable_it(std::as_const(*this).find(key)); }
  size_t count(std::string_view key) const { return find(key) == end() ? 0 : 1; }
  bool contains(std::string_view key) const { return find(key) != end(); }

  const std::string& at(std::string_view key) const {
    auto it = find(key);
    if (it == end()) throw std::out_of_range("FieldMap::at: no such key");
    return it->second;
  }

  // Inserts (key, value) unless the key is there already; then the stored value stays, as std::map::emplace.
  template <typename K, typename V>
  std::pair<iterator, bool> emplace(K&& key, V&& value) {
    const std::string_view k(key);
    auto it = mutable_it(lower_bound(k));
    if (it != items_.end() && it->first == k) return {it, false};
    // Decoded fields mostly arrive in no particular order, but few: an insertion into the sorted vector.
    it = items_.emplace(it, std::string(std::forward<K>(key)), std::string(std::forward<V>(value)));
    return {it, true};
  }
  std::pair<iterator, bool> insert(value_type pair) { return emplace(std::move(pair.first), std::move(pair.second)); }
  template <typename V>
  std::pair<iterator, bool> insert_or_assign(std::string_view key, V&& value) {
    auto [it, inserted] = emplace(key, std::string());
    it->second = std::forward<V>(value);
    return {it, inserted};
  }
  std::string& operator[](std::string_view key) { return emplace(key, std::string()).first->second; }

  size_t erase(std::string_view key) {
    auto it = find(key);
    if (it == end()) return 0;
    items_.erase(it);
    return 1;
  }
  iterator erase(const_iterator it) { return items_.erase(it); }

  bool operator==(const FieldMap& other) const = default;

 private:
  static constexpr size_t kLinearFindMax = 24;

  const_iterator lower_bound(std::string_view key) const {
    return std::lower_bound(items_.begin(), items_.end(), key,
                            [](const value_type& item, std::string_view k) { return std::string_view(item.first) < k; });
  }
  iterator mutable_it(const_iterator it) { return items_.begin() + (it - items_.cbegin()); }

  std::vector<value_type> items_;  // ascending by key, keys unique
};

}  // namespace paygate
