// The .csv reader (nn/csv.h): a header of names, numbers as numpy reads them, and every malformed
// file refused with the line, the column and the cell.
#include <doctest/doctest.h>

#include <cmath>

#include "nn/csv.h"

using namespace integrad;

namespace {

std::string error_of(const std::string& text) {
  try {
    nn::csv_parse(text, "t.csv");
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("csv: header, rows, numbers as numpy parses them") {
  const nn::CsvTable t = nn::csv_parse("age, income ,label\r\n1.5,-2e3,0\n\n +3 ,.5,1\n7.,1E-2,2\n", "t.csv");
  CHECK(t.columns == std::vector<std::string>{"age", "income", "label"});
  CHECK(t.rows == 3);
  CHECK(t.values == std::vector<double>{1.5, -2000, 0, 3, 0.5, 1, 7, 0.01, 2});
  CHECK(t.column_index("income") == 1);
  CHECK(t.column_index("nope") == -1);
  std::vector<std::string> names;
  const ad::Tensor<double> x = nn::csv_features<double>(t, "label", &names);
  CHECK(x.shape() == ad::Shape{3, 2});
  CHECK(names == std::vector<std::string>{"age", "income"});
  CHECK(x[3] == 0.5);
  CHECK(nn::csv_labels(t, "label", "t.csv") == std::vector<int64_t>{0, 1, 2});

  double v = 0;
  for (const char* nan : {"nan", "NaN", "-nan", "NAN", " nan "}) {
    CAPTURE(nan);
    CHECK((nn::csv_number(nan, v) && std::isnan(v)));
  }
  for (const char* inf : {"inf", "Inf", "+inf", "infinity", "Infinity", "1e400"}) {
    CAPTURE(inf);
    CHECK((nn::csv_number(inf, v) && v == INFINITY));
  }
  CHECK((nn::csv_number("-INF", v) && v == -INFINITY));
  CHECK((nn::csv_number("1e-400", v) && v == 0));
  CHECK((nn::csv_number("-0", v) && v == 0 && std::signbit(v)));
  for (const char* bad : {"", " ", "abc", "1.2.3", "1e", "--1", "+-1", "0x10", "1,5", "\"1\"", "nan(1)", "in", "1 2", "e5"}) {
    CAPTURE(bad);
    CHECK_FALSE(nn::csv_number(bad, v));
  }
}

TEST_CASE("csv: bad files are refused naming the line, the column and the cell") {
  CHECK(error_of("").find("t.csv is empty: expected a header row") != std::string::npos);
  CHECK(error_of("\n  \n").find("is empty") != std::string::npos);
  CHECK(error_of("a,b\n").empty());  // a header alone: zero examples
  CHECK(nn::csv_parse("a,b\n", "t.csv").rows == 0);
  CHECK(error_of("a,b\n1,2\n3\n").find("t.csv line 3: 1 cells, the header has 2 columns") != std::string::npos);
  CHECK(error_of("a,b\n1,2,3\n").find("line 2: 3 cells, the header has 2 columns") != std::string::npos);
  CHECK(error_of("a,b\n1,2\n3,x\n").find("t.csv line 3 (example 1), column 2 'b': 'x' is not a number") != std::string::npos);
  CHECK(error_of("a,b\n1,\n").find("line 2 (example 0), column 2 'b': is empty") != std::string::npos);
  CHECK(error_of("a,b\n\"1\",2\n").find("column 1 'a': '\"1\"' is quoted") != std::string::npos);
  CHECK(error_of("\"a\",b\n1,2\n").find("column 1 of the header is quoted") != std::string::npos);
  CHECK(error_of("1,2\n3,4\n").find("the first row holds a number (1) in column 1: expected a header row") != std::string::npos);
  CHECK(error_of("a,,c\n1,2,3\n").find("column 2 of the header has no name") != std::string::npos);
  CHECK(error_of("a,b,a\n1,2,3\n").find("names column 'a' twice") != std::string::npos);
  const nn::CsvTable t = nn::csv_parse("a,label\n1,0.5\n2,-1\n", "t.csv");
  CHECK_THROWS_WITH(nn::csv_labels(t, "label", "t.csv"), doctest::Contains("example 0, column 'label': label 0.5 is not a class index"));
  CHECK_THROWS_WITH(nn::csv_labels(t, "y", "t.csv"), doctest::Contains("has no column 'y' (--labels-column); its columns: a, label"));
  CHECK_THROWS_WITH(nn::csv_read("/nonexistent/x.csv"), doctest::Contains("/nonexistent/x.csv: no such file"));
  CHECK(nn::is_csv_path("data/X.CSV"));
  CHECK_FALSE(nn::is_csv_path("x.npy"));
}

#include <filesystem>

#include "nn/architecture.h"
#include "nn/model_file.h"

TEST_CASE("a tabular model keeps its feature names in the metadata feature_names") {
  auto m = nn::parse_architecture<float>("Linear(3, 2)", ad::Shape{3}, nn::InputDtype::float32, 1);
  m.feature_names = {"age", "income", "x y"};
  const std::string path = (std::filesystem::temp_directory_path() / "integrad_test_features.safetensors").string();
  nn::save_model(path, m, "F32");
  CHECK(nn::model_metadata(path).at("feature_names") == "age,income,x y");
  CHECK(nn::load_model<double>(path).feature_names == m.feature_names);
  CHECK(m.clone().feature_names == m.feature_names);
  std::filesystem::remove(path);
}

TEST_CASE("csv_write: shortest numbers that read back bit for bit, nan and inf; names a header cannot hold are refused") {
  const std::string path = (std::filesystem::temp_directory_path() / "integrad_test_write.csv").string();
  const std::vector<float> v{0.1f, -2.5e-8f, 3.0f, NAN, INFINITY, -INFINITY};
  nn::csv_write(path, {"a", "b", "c"}, v.data(), 2);
  const nn::CsvTable t = nn::csv_read(path);
  CHECK(t.columns == std::vector<std::string>{"a", "b", "c"});
  REQUIRE(t.rows == 2);
  for (size_t k = 0; k < 6; ++k) {
    CAPTURE(k);
    if (std::isnan(v[k])) CHECK(std::isnan(t.values[k]));
    else CHECK(float(t.values[k]) == v[k]);
  }
  CHECK_THROWS_WITH(nn::csv_write(path, {"a,b"}, v.data(), 1), doctest::Contains("cannot be written to a .csv header"));
  std::filesystem::remove(path);
}
