"""Tutorial 2, solutions to the exercises.

Run: python tutorials/solutions/02_preparing_data.py
"""

import io

import numpy as np

from minigrad.data import KFold, SimpleImputer, StandardScaler, load_digits, train_test_split

X, y = load_digits()
rows = np.arange(len(X))

# 1. 60 / 20 / 20: first hold out 20% as test, then 25% of the remaining 80% (= 20%).
X_rest, X_test, y_rest, y_test, rows_rest, rows_test = train_test_split(
    X, y, rows, test_size=0.2, stratify=y, random_state=0
)
X_train, X_val, y_train, y_val, rows_train, rows_val = train_test_split(
    X_rest, y_rest, rows_rest, test_size=0.25, stratify=y_rest, random_state=0
)
print(f"1. train {len(X_train)}, val {len(X_val)}, test {len(X_test)}")
assert sorted(np.concatenate([rows_train, rows_val, rows_test]).tolist()) == rows.tolist()
assert abs(len(X_train) / len(X) - 0.6) < 0.01

# 2. Means instead of medians, without indicator columns.
csv_text = "age,income\n34,52000\n51,\n23,31000\n,41000\n"
table = np.genfromtxt(io.StringIO(csv_text), delimiter=",", skip_header=1)
filled = SimpleImputer(strategy="mean").fit_transform(table)
by_hand = (34 + 51 + 23) / 3
print(f"2. the missing age became {filled[3, 0]:.4f}; the mean by hand is {by_hand:.4f}")
assert filled.shape == table.shape and abs(filled[3, 0] - by_hand) < 1e-9

# 3. A scaler fitted inside each fold: the validation rows' means are near 0, not exactly.
for fold, (train_rows, val_rows) in enumerate(KFold(5, shuffle=True, random_state=0).split(X)):
    scaler = StandardScaler().fit(X[train_rows])
    largest = np.abs(scaler.transform(X[val_rows]).mean(axis=0)).max()
    print(f"3. fold {fold}: largest |mean| of a scaled validation column {largest:.3f}")
    assert np.allclose(scaler.transform(X[train_rows]).mean(axis=0), 0, atol=1e-5)
    assert 0 < largest < 1
