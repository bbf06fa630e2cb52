// synthetic-tabular: 7 features of known roles, for studying attributions on a tabular model.
// Each example draws a, b, c, d, e, z ~ N(0, 1) independently, and
//   score = 1.5·a − 1.0·b + 0.5·c + 1.5·d·e,    label = 1 if score > 0 else 0,
// and stores the features (in this order)
//   linear_a (a), linear_b (b), linear_c (c): matter linearly, with weights 1.5, −1, 0.5;
//   interact_d (d), interact_e (e): matter only through their product (an interaction pair);
//   dummy (z): the label ignores it (the dummy axiom: a faithful method gives it 0);
//   linear_a_copy (a again): a duplicate of linear_a, equal in every example (symmetry: nothing
//     in the data tells the two apart, so a model that uses them alike should get equal shares).
#pragma once

#include <string>
#include <vector>

#include "nn/dataset.h"

namespace integrad::nn {

template <ad::Scalar T>
Dataset<T> synthetic_tabular(int64_t n, uint64_t seed);

struct TabularFeature {
  std::string name, role;  // role: linear, interaction, dummy, duplicate
  std::string note;        // e.g. "weight 1.5", "copy of linear_a"
};
const std::vector<TabularFeature>& synthetic_tabular_features();
std::vector<std::string> synthetic_tabular_names();

}  // namespace integrad::nn
