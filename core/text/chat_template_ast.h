// chat_template_ast.h — internal types shared by the chat-template lexer, parser and evaluator:
// tokens, template pieces (text / {{ }} / {% %}) and the syntax tree.
#pragma once
#include <stdint.h>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/text/chat_template_value.h"

enum class Tok { Name, String, Int, Float, Op, End };

struct Token {
    Tok type = Tok::End;
    std::string s;      // name, string contents, or operator text
    int64_t i = 0;
    double f = 0.0;
    int line = 0, col = 0;
};

// One piece of template source after whitespace control: literal text, an output tag's tokens,
// or a statement tag's tokens (raw blocks become text).
struct Piece {
    enum Kind { Text, Var, Block } kind = Text;
    std::string text;
    std::vector<Token> toks;   // for Var/Block, terminated by a Tok::End token
    int line = 0, col = 0;
};

// Splits template source into pieces, applying Jinja's rules as transformers configures them:
// newlines normalised to \n, one trailing newline dropped, trim_blocks, lstrip_blocks, and the
// "-" / "+" whitespace modifiers. Fails (false, *err with line:col) on unclosed tags/strings
// and characters that no token starts with.
bool template_lex(const std::string& src, std::vector<Piece>* out, std::string* err);

enum class EK {
    Literal, Name, List, Dict, Tuple, Attr, Item, Slice, Call, Filter, Test,
    Neg, Pos, Not, And, Or, Binary, Compare, Cond
};

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
    EK kind;
    int line = 0, col = 0;
    Value lit;                         // Literal
    std::string name;                  // Name, Attr, Filter/Test name, Binary operator
    std::vector<ExprPtr> kids;         // operands / elements / call target + positional args
    std::vector<std::pair<std::string, ExprPtr>> kwargs;   // Call/Filter/Test keyword args; Dict keys unused
    std::vector<std::string> ops;      // Compare: operator per comparison ("==", "in", "not in", ...)
    bool negated = false;              // Test: "is not"
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

enum class SK { Text, Output, If, For, Set, SetBlock, Macro, Break, Continue, FilterBlock, CallBlock };

struct Stmt {
    SK kind;
    int line = 0, col = 0;
    std::string text;                        // Text
    ExprPtr expr;                            // Output, Set value, For iterable, FilterBlock filter chain
    std::vector<std::pair<ExprPtr, Body>> branches;   // If: condition + body per if/elif
    Body body;                               // For/SetBlock/Macro/FilterBlock/CallBlock body
    Body else_body;                          // If else / For else
    std::vector<std::string> targets;        // For/Set targets (several: tuple unpacking)
    std::string attr;                        // Set: "ns.attr" form -> targets[0] is ns, attr is attr
    ExprPtr cond;                            // For: inline "if" filter
    bool recursive = false;                  // For
    std::string name;                        // Macro name
    std::vector<std::pair<std::string, ExprPtr>> params;   // Macro params with optional defaults
};

struct Program {
    Body body;
};

// Parses pieces into a program. Fails with "line L, column C: ..." naming the construct.
bool template_parse(const std::vector<Piece>& pieces, Program* out, std::string* err);
