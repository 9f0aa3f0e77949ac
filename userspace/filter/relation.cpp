// SPDX-License-Identifier: Apache-2.0
// Lexer and precedence-climbing parser of packet-data relations. Error
// wordings follow libpcap 1.10's where it has one ("data size must be 1, 2
// or 4", "division by zero", "shift by more than 31 bits").
#include "filter/relation.hpp"

#include "filter/relation_lexer.hpp"
#include "filter/token.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <iterator>

namespace wgcap::filter {
namespace {

Relation RelationOf(std::string_view op) {
  if (op == "!=") {
    return Relation::NotEqual;
  }
  if (op == "<") {
    return Relation::Less;
  }
  if (op == "<=") {
    return Relation::LessEqual;
  }
  if (op == ">") {
    return Relation::Greater;
  }
  if (op == ">=") {
    return Relation::GreaterEqual;
  }
  return Relation::Equal;
}

ValueOp OpOf(std::string_view t) {
  static constexpr std::array<std::pair<std::string_view, ValueOp>, 10> kMap = {{
      {"+", ValueOp::Add},
      {"-", ValueOp::Sub},
      {"*", ValueOp::Mul},
      {"/", ValueOp::Div},
      {"%", ValueOp::Mod},
      {"&", ValueOp::And},
      {"|", ValueOp::Or},
      {"^", ValueOp::Xor},
      {"<<", ValueOp::Shl},
      {">>", ValueOp::Shr},
  }};
  for (const auto& [text, op] : kMap) {
    if (text == t) {
      return op;
    }
  }
  return ValueOp::Add;
}

std::string Quote(const Lexeme& l) {
  return l.kind == Lex::Stop && l.text.empty() ? std::string("end of input")
                                               : "\"" + std::string(l.text) + "\"";
}

class RelationParser {
public:
  RelationParser(std::string_view s, std::vector<ValueNode>& values, std::size_t max_values,
                 int max_depth)
      : s_(s), values_(values), max_values_(max_values), max_depth_(max_depth) {}

  RelationParse Run(std::size_t start) {
    RelationParse r;
    const std::size_t restore = values_.size();
    pos_ = start;
    const Lexeme first = Peek();
    if (first.kind == Lex::Name && Lower(first.text) == "byte") {
      return Byte(restore);
    }
    committed_ = first.kind == Lex::Name || (first.kind == Lex::Op && first.text == "-") ||
                 (first.kind == Lex::Number && NumberStartsRelation(s_, first));
    const int left = Arith(0, 0);
    int right = -1;
    Lexeme op;
    if (left >= 0) {
      op = Peek();
      if (!IsRelop(op)) {
        Fail(op,
             "expected a comparison (=, ==, !=, <, <=, >, >=) after the value, got " + Quote(op));
      } else {
        committed_ = true;
        Take();
        right = Arith(0, 0);
      }
    }
    r.committed = committed_;
    if (right < 0 || !error_.empty()) {
      values_.resize(restore);
      r.column = error_column_;
      r.error = error_.empty() ? "invalid relation" : error_;
      return r;
    }
    r.ok = true;
    r.term.kind = TermKind::Relation;
    r.term.relation = RelationOf(op.text);
    r.term.value_left = left;
    r.term.value_right = right;
    r.end = pos_;
    return r;
  }

private:
  // libpcap's `byte N op V` (op = < > & |): `link[N] op V`, and for & and |
  // `link[N] op V != 0`.
  RelationParse Byte(std::size_t restore) {
    RelationParse r;
    r.committed = true;
    const Lexeme word = Take();
    const Lexeme index = Take();
    const Lexeme op = Take();
    const Lexeme value = Take();
    static constexpr std::string_view kOps[] = {"=", "==", "<", ">", "&", "|"};
    if (index.kind != Lex::Number || !index.error.empty()) {
      Fail(index, "expected a byte offset after \"byte\", got " + Quote(index));
    } else if (op.kind != Lex::Op ||
               std::find(std::begin(kOps), std::end(kOps), op.text) == std::end(kOps)) {
      Fail(op, "expected =, <, >, & or | after \"byte " + std::string(index.text) + "\", got " +
                   Quote(op));
    } else if (value.kind != Lex::Number || !value.error.empty()) {
      Fail(value, "expected a number after \"" + std::string(op.text) + "\", got " + Quote(value));
    }
    if (!error_.empty()) {
      values_.resize(restore);
      r.column = error_column_;
      r.error = error_;
      return r;
    }
    ValueNode v;
    v.column = Column(word);
    v.constant = index.value;
    const int offset = Add(v, word);
    v.kind = ValueNode::Kind::Load;
    v.left = offset;
    int left = Add(v, word);
    v = ValueNode{};
    v.column = Column(value);
    v.constant = value.value;
    int right = Add(v, value);
    r.term.relation = RelationOf(op.text);
    if (op.text == "&" || op.text == "|") {
      v = ValueNode{};
      v.kind = ValueNode::Kind::Binary;
      v.op = OpOf(op.text);
      v.left = left;
      v.right = right;
      v.column = Column(op);
      left = Add(v, op);
      v = ValueNode{};
      v.column = Column(op);
      right = Add(v, op);
      r.term.relation = Relation::NotEqual;
    }
    r.ok = error_.empty();
    r.term.kind = TermKind::Relation;
    r.term.value_left = left;
    r.term.value_right = right;
    r.end = pos_;
    return r;
  }

  static std::size_t End(const Lexeme& l) { return l.offset + l.text.size(); }
  Lexeme Peek() const { return LexAt(s_, pos_); }
  Lexeme Take() {
    Lexeme l = Peek();
    pos_ = End(l);
    return l;
  }
  static int Column(const Lexeme& l) { return static_cast<int>(l.offset) + 1; }

  int Fail(const Lexeme& at, std::string what) {
    if (error_.empty()) {
      error_ = std::move(what);
      error_column_ = Column(at);
    }
    return -1;
  }

  int Add(const ValueNode& v, const Lexeme& at) {
    if (values_.size() >= max_values_) {
      return Fail(at, "expression too long (more than " + std::to_string(max_values_) + " values)");
    }
    values_.push_back(v);
    return static_cast<int>(values_.size()) - 1;
  }

  // Binary operators of `level` and tighter, left-associative.
  int Arith(int level, int depth) {
    if (level > kTightest) {
      return Unary(depth);
    }
    int left = Arith(level + 1, depth);
    while (left >= 0 && Level(Peek()) == level) {
      const Lexeme op = Take();
      const int right = Arith(level + 1, depth);
      if (right < 0) {
        return -1;
      }
      ValueNode v;
      v.kind = ValueNode::Kind::Binary;
      v.op = OpOf(op.text);
      v.left = left;
      v.right = right;
      v.column = Column(op);
      if (!ConstantOperandOk(v, op)) {
        return -1;
      }
      left = Add(v, op);
    }
    return left;
  }

  // libpcap refuses a constant divisor of 0 and a constant shift over 31.
  bool ConstantOperandOk(const ValueNode& v, const Lexeme& op) {
    const auto k = Constant(v.right);
    if (!k) {
      return true;
    }
    if (*k == 0 && (v.op == ValueOp::Div || v.op == ValueOp::Mod)) {
      Fail(op, v.op == ValueOp::Div ? "division by zero" : "modulus by zero");
      return false;
    }
    if (*k > 31 && (v.op == ValueOp::Shl || v.op == ValueOp::Shr)) {
      Fail(op, "shift by more than 31 bits");
      return false;
    }
    return true;
  }

  // The value of a subtree without loads or `len`.
  std::optional<std::uint32_t> Constant(int index) const {
    const ValueNode& v = values_[static_cast<std::size_t>(index)];
    switch (v.kind) {
    case ValueNode::Kind::Constant:
      return v.constant;
    case ValueNode::Kind::Negate: {
      const auto a = Constant(v.left);
      return a ? std::optional<std::uint32_t>(0u - *a) : std::nullopt;
    }
    case ValueNode::Kind::Binary: {
      const auto a = Constant(v.left);
      const auto b = a ? Constant(v.right) : std::nullopt;
      return b ? std::optional<std::uint32_t>(Fold(v.op, *a, *b)) : std::nullopt;
    }
    case ValueNode::Kind::Length:
    case ValueNode::Kind::Load:
      break;
    }
    return std::nullopt;
  }

  // Operands already checked: no zero divisor, no shift over 31.
  static std::uint32_t Fold(ValueOp op, std::uint32_t a, std::uint32_t b) {
    switch (op) {
    case ValueOp::Add:
      return a + b;
    case ValueOp::Sub:
      return a - b;
    case ValueOp::Mul:
      return a * b;
    case ValueOp::Div:
      return b == 0 ? 0 : a / b;
    case ValueOp::Mod:
      return b == 0 ? 0 : a % b;
    case ValueOp::And:
      return a & b;
    case ValueOp::Or:
      return a | b;
    case ValueOp::Xor:
      return a ^ b;
    case ValueOp::Shl:
      return b > 31 ? 0 : a << b;
    case ValueOp::Shr:
      return b > 31 ? 0 : a >> b;
    }
    return 0;
  }

  int Unary(int depth) {
    if (depth >= max_depth_) {
      return Fail(Peek(),
                  "expression nested too deeply (limit " + std::to_string(max_depth_) + ")");
    }
    const Lexeme l = Peek();
    if (l.kind == Lex::Op && l.text == "-") {
      Take();
      const int operand = Unary(depth + 1);
      if (operand < 0) {
        return -1;
      }
      ValueNode v;
      v.kind = ValueNode::Kind::Negate;
      v.left = operand;
      v.column = Column(l);
      return Add(v, l);
    }
    if (l.kind == Lex::Op && l.text == "(") {
      Take();
      const int inner = Arith(0, depth + 1);
      if (inner < 0) {
        return -1;
      }
      const Lexeme close = Peek();
      if (close.kind != Lex::Op || close.text != ")") {
        return Fail(close, "expected \")\" to close \"(\" at column " + std::to_string(Column(l)) +
                               ", got " + Quote(close));
      }
      Take();
      return inner;
    }
    return Primary(depth);
  }

  int Primary(int depth) {
    const Lexeme l = Take();
    ValueNode v;
    v.column = Column(l);
    if (l.kind == Lex::Number) {
      if (!l.error.empty()) {
        return Fail(l, l.error);
      }
      v.constant = l.value;
      return Add(v, l);
    }
    if (l.kind != Lex::Name) {
      return Fail(l, "expected a number, len, a named value or a load such as tcp[13], got " +
                         Quote(l));
    }
    const std::string word = Lower(l.text);
    if (const auto named = NamedValue(word)) {
      v.constant = *named;
      return Add(v, l);
    }
    if (word == "len" || word == "length") {
      v.kind = ValueNode::Kind::Length;
      return Add(v, l);
    }
    const auto load = LoadWordFor(word);
    const Lexeme open = Peek();
    if (!load) {
      return Fail(l, "unknown name " + Quote(l) + " in a relation (expected a number, len, " +
                         "a named value such as tcp-syn, or a load such as ip[0])");
    }
    if (open.kind != Lex::Op || open.text != "[") {
      return Fail(open, "expected \"[\" after \"" + std::string(l.text) + "\", got " + Quote(open));
    }
    return Load(l, *load, depth);
  }

  int Load(const Lexeme& name, LoadWord load, int depth) {
    const Lexeme open = Take();
    const int offset = Arith(0, depth + 1);
    if (offset < 0) {
      return -1;
    }
    ValueNode v;
    v.kind = ValueNode::Kind::Load;
    v.base = load.base;
    v.protocol = load.protocol;
    v.left = offset;
    v.column = Column(name);
    if (Peek().kind == Lex::Op && Peek().text == ":") {
      Take();
      const Lexeme size = Take();
      if (size.kind != Lex::Number || !size.error.empty() ||
          (size.value != 1 && size.value != 2 && size.value != 4)) {
        return Fail(size, "data size must be 1, 2 or 4, got " + Quote(size));
      }
      v.size = static_cast<std::uint8_t>(size.value);
    }
    const Lexeme close = Peek();
    if (close.kind != Lex::Op || close.text != "]") {
      return Fail(close, "expected \"]\" to close \"[\" at column " + std::to_string(Column(open)) +
                             ", got " + Quote(close));
    }
    Take();
    return Add(v, name);
  }

  std::string_view s_;
  std::vector<ValueNode>& values_;
  std::size_t max_values_;
  int max_depth_;
  std::size_t pos_ = 0;
  bool committed_ = false;
  std::string error_;
  int error_column_ = 0;
};

} // namespace

RelationParse ParseRelation(std::string_view source, std::size_t start,
                            std::vector<ValueNode>& values, std::size_t max_values, int max_depth) {
  return RelationParser(source, values, max_values, max_depth).Run(start);
}

bool MayStartRelation(std::string_view s, std::size_t start) {
  const Lexeme l = LexAt(s, start);
  if (l.kind == Lex::Op) {
    return l.text == "(" || l.text == "-";
  }
  if (l.kind == Lex::Number) {
    return NumberStartsRelation(s, l);
  }
  if (l.kind != Lex::Name) {
    return false;
  }
  const std::string w = Lower(l.text);
  if (w == "len" || w == "length" || w == "byte" || NamedValue(w)) {
    return true;
  }
  const Lexeme next = LexAt(s, l.offset + l.text.size());
  return LoadWordFor(w) && next.kind == Lex::Op && next.text == "[";
}

TokenRelation RelationAtToken(std::string_view source, const std::vector<Token>& tokens,
                              std::size_t pos, std::vector<ValueNode>& values,
                              std::size_t max_values, int max_depth) {
  TokenRelation out;
  const Token& first = tokens[pos];
  const auto start = static_cast<std::size_t>(first.column - 1);
  if (first.kind == TokenKind::End || first.escaped || !MayStartRelation(source, start)) {
    return out;
  }
  const RelationParse r = ParseRelation(source, start, values, max_values, max_depth);
  if (!r.ok) {
    if (r.committed) {
      out.status = TokenRelation::Status::Error;
      out.error = "column " + std::to_string(r.column) + ": " + r.error;
    }
    return out;
  }
  // The relation ends where the main tokenizer splits too (a blank, a
  // bracket, "&&", "||", "!"): continue at the first token after it.
  std::size_t next = pos;
  while (tokens[next].kind != TokenKind::End &&
         static_cast<std::size_t>(tokens[next].column - 1) < r.end) {
    ++next;
  }
  const Token& last = tokens[next - 1];
  if (static_cast<std::size_t>(last.column - 1) + last.text.size() > r.end) {
    out.status = TokenRelation::Status::Error;
    out.error = "column " + std::to_string(r.end + 1) + ": unexpected \"" +
                std::string(source.substr(r.end, 1)) + "\" after the relation";
    return out;
  }
  out.status = TokenRelation::Status::Ok;
  out.term = r.term;
  out.next = next;
  return out;
}

} // namespace wgcap::filter
