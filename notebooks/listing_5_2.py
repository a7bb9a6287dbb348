import numpy as np
import pandas as pd
from sklearn.metrics.pairwise import cosine_similarity
from sklearn.model_selection import train_test_split
from sklearn.metrics import mean_squared_error

# 5.2.1 数据预处理
def load_data(file_path):
    # 加载数据
    data = pd.read_csv(file_path)
    return data

def preprocess_data(data):
    # 预处理数据，将数据转换为用户-物品评分矩阵
    unique_users = data['user_id'].unique()
    unique_items = data['item_id'].unique()
    user_index = {user: idx for idx, user in enumerate(unique_users)}
    item_index = {item: idx for idx, item in enumerate(unique_items)}
    user_item_matrix = np.zeros((len(unique_users), len(unique_items)))
    for index, row in data.iterrows():
        user_idx = user_index[row['user_id']]
        item_idx = item_index[row['item_id']]
        user_item_matrix[user_idx][item_idx] = row['rating']
    return user_item_matrix

# 5.2.2 模型训练
def train_model(user_item_matrix):
    # 训练协同过滤模型
    user_similarity = cosine_similarity(user_item_matrix)
    return user_similarity

# 5.2.3 推荐列表生成
def generate_recommendations(user_similarity, user_item_matrix, user_id, top_n=10):
    # 生成推荐列表
    user_profile = user_similarity[user_id]
    user_profile = np.delete(user_profile, user_id)
    sorted_indices = np.argsort(user_profile)[::-1]
    sorted_indices = sorted_indices[:top_n]
    recommended_items = [item_index.inverse[i] for i in sorted_indices]
    return recommended_items

# 5.2.4 运行结果展示
def evaluate_model(user_item_matrix, user_similarity, test_data):
    # 评估模型效果
    test_user_item_matrix = preprocess_data(test_data)
    predicted_ratings = np.dot(user_similarity, test_user_item_matrix.T)
    mse = mean_squared_error(test_user_item_matrix.flatten(), predicted_ratings.flatten())
    return mse

# 主函数
if __name__ == "__main__":
    # 加载数据
    data = load_data('data.csv')
    user_item_matrix = preprocess_data(data)

    # 划分训练集和测试集
    train_data, test_data = train_test_split(data, test_size=0.2)

    # 训练模型
    user_similarity = train_model(user_item_matrix)

    # 生成推荐列表
    user_id = 0  # 假设用户ID为0
    recommendations = generate_recommendations(user_similarity, user_item_matrix, user_id)

    # 评估模型
    mse = evaluate_model(user_item_matrix, user_similarity, test_data)
    print(f"Mean Squared Error: {mse}")
    print(f"Recommendations for user {user_id}: {recommendations}")
